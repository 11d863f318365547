/// Where each named tensor lives inside one flat Float buffer. Parameters, gradients and
/// optimizer moments all share this layout, so an optimizer step, a gradient sum across
/// workers or a save is one loop over one buffer.
public struct ParameterLayout {
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var tensors: [Tensor] = []
    public private(set) var count = 0

    @discardableResult
    mutating func add(_ name: String, _ shape: [Int]) -> Tensor {
        let t = Tensor(name: name, shape: shape, offset: count)
        tensors.append(t)
        count += t.count
        return t
    }

    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }
}
