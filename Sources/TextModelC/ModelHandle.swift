import TextModel
#if canImport(Glibc)
import Glibc
#endif

/// What a `tm_model *` points to: the model plus C copies of its label names,
/// which tm_model_label hands out and which must live until tm_model_free.
final class ModelHandle {
    let model: Model
    private var labelStrings: [String: UnsafeMutablePointer<CChar>] = [:]
    private var lock = pthread_mutex_t()

    init(_ model: Model) {
        self.model = model
        pthread_mutex_init(&lock, nil)
    }

    deinit {
        for p in labelStrings.values { free(p) }
        pthread_mutex_destroy(&lock)
    }

    /// A C string for `label` owned by this handle (kept even if retraining changes labels).
    func cString(for label: String) -> UnsafePointer<CChar>? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let p = labelStrings[label] { return UnsafePointer(p) }
        guard let p = strdup(label) else { return nil }
        labelStrings[label] = p
        return UnsafePointer(p)
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passRetained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer?) -> ModelHandle? {
        guard let pointer = pointer else { return nil }
        return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    static func release(_ pointer: OpaquePointer?) {
        guard let pointer = pointer else { return }
        Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(pointer)).release()
    }
}
