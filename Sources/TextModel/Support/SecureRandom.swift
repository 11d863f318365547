#if canImport(Glibc)
import Glibc
#endif

/// Random bytes from the operating system's CSPRNG (/dev/urandom: the kernel's ChaCha20
/// generator, the source getrandom(2) reads), for noise nobody can replay from a seed
/// (training.privacy.secure_rng). The device is opened once per process, on first use.
enum SecureRandom {
    private static let device: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    /// Fills `count` words; throws if the device cannot be opened or read.
    static func fill(_ out: UnsafeMutablePointer<UInt64>, count: Int) throws {
        let fd = device
        guard fd >= 0 else {
            throw TextModelError(.io, "/dev/urandom could not be opened: no secure random numbers for training.privacy.secure_rng")
        }
        let bytes = UnsafeMutableRawPointer(out)
        let total = count * 8
        var done = 0
        while done < total {
            let n = read(fd, bytes + done, total - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw TextModelError(.io, "reading /dev/urandom failed (errno \(errno)): no secure random numbers for training.privacy.secure_rng")
            }
            done += n
        }
    }
}
