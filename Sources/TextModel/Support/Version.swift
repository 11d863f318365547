/// The library version, written into model files and checkpoints. The header's
/// TEXTMODEL_VERSION_* macros (include/textmodel.h) are the one source; bindings/python/
/// tests/test_packaging.py checks this copy, the Python package's and pyproject's against them.
public enum LibraryVersion {
    public static let major = 0
    public static let minor = 6
    public static let patch = 0
    public static let string = "\(major).\(minor).\(patch)"
    public static let number = major * 10000 + minor * 100 + patch
}
