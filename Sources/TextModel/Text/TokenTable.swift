#if canImport(Glibc)
import Glibc
#endif
import CKernels

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
    private func home(_ hash: UInt64) -> Int { TokenTable.home(hash, mask) }

    @inline(__always)
    fileprivate static func home(_ hash: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

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
        withLookup { $0.index(of: key, hash: hash) }
    }

    /// The table's storage as buffers, for lookups with no array access per probe
    /// (bounds and uniqueness checks were most of a vocabulary lookup's instructions).
    struct Lookup {
        fileprivate let bytes: UnsafeBufferPointer<UInt8>
        fileprivate let ends: UnsafeBufferPointer<Int>
        fileprivate let hashes: UnsafeBufferPointer<UInt64>
        fileprivate let slots: UnsafeBufferPointer<Int32>
        fileprivate let mask: Int

        /// Asks the CPU to start loading the slot `hash` is looked up at first (a hint).
        @inline(__always)
        func prefetchHome(_ hash: UInt64) {
            tm_prefetch_row(slots.baseAddress! + TokenTable.home(hash, mask), 4)
        }

        /// Asks the CPU to start loading the entry in the slot `hash` is looked up at first
        /// (its hash and ends): call after `prefetchHome` of it had time to arrive.
        @inline(__always)
        func prefetchEntry(_ hash: UInt64) {
            let entry = Int(slots[TokenTable.home(hash, mask)])
            guard entry > 0 else { return }
            tm_prefetch_row(hashes.baseAddress! + (entry - 1), 8)
            tm_prefetch_row(ends.baseAddress! + (entry - 1), 8)
        }

        /// The index of `key` (whose FNV-1a hash is `hash`), or nil.
        @inline(__always)
        func index(of key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
            var slot = TokenTable.home(hash, mask)
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return nil }
                let i = entry - 1
                if hashes[i] == hash {
                    let start = i == 0 ? 0 : ends[i - 1]
                    if ends[i] - start == key.count && Lookup.equal(bytes, at: start, key) { return i }
                }
                slot = (slot + 1) & mask
            }
        }

        /// Whether the `key.count` bytes from `start` of `stored` are `key`'s (the caller
        /// checked that they are in it). Most tokens are a few bytes: a byte loop inline
        /// beats the call into memcmp (a tenth of a lookup).
        @inline(__always)
        private static func equal(_ stored: UnsafeBufferPointer<UInt8>, at start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
            guard let k = key.baseAddress, let s = stored.baseAddress else { return key.isEmpty }
            let n = key.count, from = s + start
            if n > 16 { return memcmp(from, k, n) == 0 }
            for j in 0..<n where from[j] != k[j] { return false }
            return true
        }
    }

    /// Runs `body` with a Lookup over the table (valid only inside `body`).
    func withLookup<R>(_ body: (Lookup) -> R) -> R {
        bytes.withUnsafeBufferPointer { bytes in
            ends.withUnsafeBufferPointer { ends in
                hashes.withUnsafeBufferPointer { hashes in
                    slots.withUnsafeBufferPointer { slots in
                        body(Lookup(bytes: bytes, ends: ends, hashes: hashes, slots: slots, mask: mask))
                    }
                }
            }
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
