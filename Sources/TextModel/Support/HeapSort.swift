extension Array {
    /// Sorts in place by `areInIncreasingOrder` with heapsort: O(n log n) and no
    /// allocation, where Array.sort allocates a merge buffer for more than 20 elements.
    /// Not stable: give an order with no ties (e.g. break them by index), and the result
    /// is the one sort would give.
    mutating func heapSort(by areInIncreasingOrder: (Element, Element) -> Bool) {
        let n = count
        guard n > 1 else { return }
        withUnsafeMutableBufferPointer { a in
            // Moves a[root] down until the max-heap of 0..<end holds below it.
            func siftDown(_ root: Int, _ end: Int) {
                var parent = root
                while true {
                    var child = 2 * parent + 1
                    if child >= end { return }
                    if child + 1 < end && areInIncreasingOrder(a[child], a[child + 1]) { child += 1 }
                    if !areInIncreasingOrder(a[parent], a[child]) { return }
                    a.swapAt(parent, child)
                    parent = child
                }
            }
            for root in stride(from: n / 2 - 1, through: 0, by: -1) { siftDown(root, n) }
            for end in stride(from: n - 1, to: 0, by: -1) {
                a.swapAt(0, end)
                siftDown(0, end)
            }
        }
    }
}
