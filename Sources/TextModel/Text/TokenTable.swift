/// A set of byte strings numbered 0, 1, 2, … in insertion order, found by their FNV-1a
/// hash (open addressing, linear probing). The vocabulary looks tokens up here straight
/// from a TokenBuffer, and vocabulary counting counts here, with no `String` per token.
///
/// Keys are compared byte for byte. `String` compares by canonical equivalence, so the
/// vocabulary keeps its `[String: Int32]` for tokens this table does not hold (see
/// Vocabulary.id(of:hash:in:)).
struct TokenTable {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var hashes: [UInt64] = []
    /// Entry index + 1 per slot, 0 = empty; the slot count is a power of two.
    private var slots: [Int32]
    private var mask: Int

    var count: Int { ends.count }

    init(minimumCapacity: Int = 64) {
        var size = 64
        while size < 2 * minimumCapacity { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    /// Fibonacci hashing spreads FNV-1a's weak low bits over the slots.
    @inline(__always)
    private func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    private func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] }

    private func matches(_ i: Int, _ key: UnsafeBufferPointer<UInt8>, _ hash: UInt64) -> Bool {
        guard hashes[i] == hash, ends[i] - start(i) == key.count else { return false }
        return bytes.withUnsafeBufferPointer { all in
            let s = start(i)
            for k in 0..<key.count where all[s + k] != key[k] { return false }
            return true
        }
    }

    /// The index of `key` (whose FNV-1a hash is `hash`), or nil.
    func index(of key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        var slot = home(hash)
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if matches(entry - 1, key, hash) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// The index of `key`, inserted at the end if new.
    @discardableResult
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int {
        var slot = home(hash)
        while slots[slot] != 0 {
            let entry = Int(slots[slot]) - 1
            if matches(entry, key, hash) { return entry }
            slot = (slot + 1) & mask
        }
        bytes.append(contentsOf: key)
        ends.append(bytes.count)
        hashes.append(hash)
        slots[slot] = Int32(truncatingIfNeeded: ends.count)
        if 2 * ends.count > slots.count { grow() }
        return ends.count - 1
    }

    @discardableResult
    mutating func insert(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { insert($0, hash: NGramHasher.fnv1a($0)) }
    }

    /// Entry i's bytes as a String (the bytes came from valid UTF-8).
    func string(_ i: Int) -> String { String(decoding: bytes[start(i)..<ends[i]], as: UTF8.self) }

    /// Calls `body` with each entry's bytes and hash, in index order.
    func forEach(_ body: (UnsafeBufferPointer<UInt8>, UInt64) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            for i in 0..<count { body(UnsafeBufferPointer(rebasing: all[start(i)..<ends[i]]), hashes[i]) }
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: 2 * slots.count)
        mask = slots.count - 1
        for i in 0..<count {
            var slot = home(hashes[i])
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(truncatingIfNeeded: i + 1)
        }
    }
}
