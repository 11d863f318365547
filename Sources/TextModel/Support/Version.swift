/// The library version. Keep in step with TEXTMODEL_VERSION_* in include/textmodel.h.
public enum LibraryVersion {
    public static let major = 0
    public static let minor = 3
    public static let patch = 0
    public static let string = "\(major).\(minor).\(patch)"
    public static let number = major * 10000 + minor * 100 + patch
}
