import TextModel
import CTextModelSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs one ABI call: maps thrown errors to a status and this thread's last-error
/// message, and clears the message on success.
func abiCall(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        tm_support_set_last_error(nil)
        return 0
    } catch let error as TextModelError {
        tm_support_set_last_error(error.message)
        return error.kind.rawValue
    } catch {
        tm_support_set_last_error("internal error: \(error)")
        return TextModelError.Kind.internal.rawValue
    }
}

func invalid(_ message: String) -> TextModelError { TextModelError(.invalidArgument, message) }

func require<T>(_ value: T?, _ name: String) throws -> T {
    guard let value = value else { throw invalid("\(name) is NULL") }
    return value
}

func handle(_ pointer: OpaquePointer?) throws -> ModelHandle {
    guard let h = ModelHandle.from(pointer) else { throw invalid("model is NULL") }
    return h
}

/// A C string as a Swift String; invalid UTF-8 is replaced by U+FFFD.
func string(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
    String(cString: try require(p, name))
}

/// A file path argument: not NULL and not empty.
func path(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
    let s = try string(p, name)
    guard !s.isEmpty else { throw invalid("\(name) is an empty string") }
    return s
}

/// `count` C strings; NULL entries are an error unless `nullable` (then nil).
func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ name: String,
             nullable: Bool = false) throws -> [String?] {
    if count == 0 { return [] }
    let a = try require(array, name)
    return try (0..<count).map { i in
        guard let p = a[i] else {
            if nullable { return nil }
            throw invalid("\(name)[\(i)] is NULL")
        }
        return String(cString: p)
    }
}

/// `count` C strings read in place as UTF-8 (a batch prediction's texts): no String
/// per text. A NULL array (count > 0) or entry is an error, as in `strings`.
func utf8Texts(_ array: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ name: String) throws -> UTF8Texts {
    if count == 0 { return UTF8Texts(cStrings: nil, count: 0) }
    let a = try require(array, name)
    for i in 0..<count where a[i] == nil { throw invalid("\(name)[\(i)] is NULL") }
    return UTF8Texts(cStrings: a, count: count)
}

/// Rows of texts and labels; a NULL text or label becomes a skipped row.
func labelledTexts(_ texts: UnsafePointer<UnsafePointer<CChar>?>?, _ labels: UnsafePointer<UnsafePointer<CChar>?>?,
                   _ count: Int, textsName: String, labelsName: String) throws -> LabelledTexts {
    let t = try strings(texts, count, textsName, nullable: true)
    let l = try strings(labels, count, labelsName, nullable: true)
    var data = LabelledTexts()
    for i in 0..<count { data.append(text: t[i], label: l[i]) }
    return data
}

/// The training calls' rows: `count` (more than 0) texts and labels, and the validation
/// rows when `validCount` is more than 0 (else nil).
func trainingRows(_ texts: CStringArray?, _ labels: CStringArray?, _ count: UInt,
                  _ validTexts: CStringArray?, _ validLabels: CStringArray?, _ validCount: UInt)
    throws -> (data: LabelledTexts, validation: LabelledTexts?) {
    let n = try checkedCount(count, "count")
    guard n > 0 else { throw invalid("count is 0: there is nothing to train on") }
    let data = try labelledTexts(texts, labels, n, textsName: "texts", labelsName: "labels")
    let validation = validCount > 0
        ? try labelledTexts(validTexts, validLabels, try checkedCount(validCount, "valid_count"),
                            textsName: "valid_texts", labelsName: "valid_labels")
        : nil
    return (data, validation)
}

/// Hands a Swift string to C as a malloc'd copy the caller frees with tm_string_free.
func output(_ s: String, to out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws {
    guard let copy = strdup(s) else { throw TextModelError(.resource, "out of memory copying a result string") }
    out.pointee = copy
}

/// A size_t count that sizes caller arrays, checked so multiplying it cannot overflow.
func checkedCount(_ n: UInt, _ name: String) throws -> Int {
    guard n <= UInt(Int32.max) else { throw invalid("\(name) is too large (\(n))") }
    return Int(n)
}

/// The static C string tm_model_task returns for a task.
func taskName(_ task: Config.Task) -> UnsafePointer<CChar>? {
    switch task {
    case .singleLabel: return tm_support_task_name(0)
    case .multiLabel: return tm_support_task_name(1)
    case .regression: return tm_support_task_name(2)
    }
}
