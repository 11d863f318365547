import TextModel

/// The exit statuses of every subcommand: one per kind of failure, so scripts can tell a
/// bad command line from a bad config, a missing file, bad data or a damaged model.
enum ExitStatus {
    static let ok: Int32 = 0
    static let internalError: Int32 = 1
    static let usage: Int32 = 2
    static let config: Int32 = 3
    static let io: Int32 = 4
    static let data: Int32 = 5
    static let modelFormat: Int32 = 6
    static let resource: Int32 = 7
    static let notApplicable: Int32 = 8
    static let diverged: Int32 = 9
    /// Training stopped by SIGINT (Ctrl-C): 128 + SIGINT, as shells report it.
    static let interrupted: Int32 = 130

    static let table = """
    exit status:
      0    success
      1    internal error (TM_ERR_INTERNAL, or an unexpected failure)
      2    bad command line (unknown command or option, missing argument)
      3    bad config (TM_ERR_CONFIG: malformed JSON, unknown key, bad value, bad --set)
      4    file error (TM_ERR_IO: missing, unreadable or unwritable file)
      5    bad data (TM_ERR_DATA: malformed CSV/JSON Lines, no usable rows, unseen label)
      6    not a valid model file (TM_ERR_MODEL_FORMAT)
      7    over a resource limit (TM_ERR_RESOURCE: training.max_memory_mb, file size)
      8    the model cannot do that (TM_ERR_INVALID_ARGUMENT, TM_ERR_STATE: e.g.
           predict-prob on a regression model, -k above the number of labels,
           explain --target naming a label the model does not have)
      9    training diverged (TM_ERR_DIVERGED: loss or weights not finite; lower
           training.learning_rate); no model was written
      130  training interrupted (SIGINT); no model was written

    """

    static func of(_ kind: TextModelError.Kind) -> Int32 {
        switch kind {
        case .config: return config
        case .io: return io
        case .data: return data
        case .modelFormat: return modelFormat
        case .resource: return resource
        case .invalidArgument, .state: return notApplicable
        case .cancelled: return interrupted
        case .diverged: return diverged
        case .internal: return internalError
        }
    }

    /// The C constant's name, so messages match what C and Python users see.
    static func statusName(_ kind: TextModelError.Kind) -> String {
        switch kind {
        case .invalidArgument: return "TM_ERR_INVALID_ARGUMENT"
        case .config: return "TM_ERR_CONFIG"
        case .io: return "TM_ERR_IO"
        case .data: return "TM_ERR_DATA"
        case .modelFormat: return "TM_ERR_MODEL_FORMAT"
        case .state: return "TM_ERR_STATE"
        case .cancelled: return "TM_ERR_CANCELLED"
        case .resource: return "TM_ERR_RESOURCE"
        case .internal: return "TM_ERR_INTERNAL"
        case .diverged: return "TM_ERR_DIVERGED"
        }
    }
}
