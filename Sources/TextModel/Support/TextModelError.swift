/// Every failure the engine reports. `kind` maps one-to-one onto the C `tm_status`
/// codes; `message` says what went wrong in words, naming the key, file, line or label.
public struct TextModelError: Error, CustomStringConvertible {
    public enum Kind: Int32 {
        case invalidArgument = 1
        case config = 2
        case io = 3
        case data = 4
        case modelFormat = 5
        case state = 6
        case cancelled = 7
        case resource = 8
        /// Training diverged: its loss, gradients or weights stopped being finite.
        case diverged = 9
        case `internal` = 99
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func invalidArgument(_ m: String) -> TextModelError { .init(.invalidArgument, m) }
    static func config(_ m: String) -> TextModelError { .init(.config, m) }
    static func io(_ m: String) -> TextModelError { .init(.io, m) }
    static func data(_ m: String) -> TextModelError { .init(.data, m) }
    static func modelFormat(_ m: String) -> TextModelError { .init(.modelFormat, m) }
    static func state(_ m: String) -> TextModelError { .init(.state, m) }
    static func resource(_ m: String) -> TextModelError { .init(.resource, m) }
}
