#if canImport(Glibc)
import Glibc
#endif
import TextModel

/// A picture as a list of shapes, in pixels from the top left: what the plots draw, and
/// what the SVG and PNG writers render. Colours are "#rrggbb".
struct Drawing {
    enum Shape {
        case rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String?)
        case line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double)
        case polyline(points: [(Double, Double)], stroke: String, width: Double)
        case circle(x: Double, y: Double, radius: Double, fill: String)
        /// Text whose baseline starts (anchor "start"), is centred ("middle") or ends
        /// ("end") at (x, y), turned `rotate` degrees (clockwise) about that point.
        case text(String, x: Double, y: Double, size: Double, anchor: String, fill: String, bold: Bool, rotate: Double)
    }

    let width: Double
    let height: Double
    private(set) var shapes: [Shape] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) {
        shapes.append(.rect(x: x, y: y, width: width, height: height, fill: fill, stroke: stroke))
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1) {
        shapes.append(.line(x1: x1, y1: y1, x2: x2, y2: y2, stroke: stroke, width: width))
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2) {
        if !points.isEmpty { shapes.append(.polyline(points: points, stroke: stroke, width: width)) }
    }

    mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String) {
        shapes.append(.circle(x: x, y: y, radius: radius, fill: fill))
    }

    mutating func text(_ text: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                       fill: String = "#222222", bold: Bool = false, rotate: Double = 0) {
        shapes.append(.text(text, x: x, y: y, size: size, anchor: anchor, fill: fill, bold: bold, rotate: rotate))
    }
}

enum PlotFile {
    /// Writes `drawing` to `path` as SVG or PNG, by the name's extension; a failure is a
    /// TM_ERR_IO naming the path.
    static func write(_ drawing: Drawing, to path: String) throws {
        let bytes = path.lowercased().hasSuffix(".png") ? PNGImage(drawing).encoded : Array(drawing.svg.utf8)
        guard let file = fopen(path, "w") else {
            throw TextModelError(.io, "cannot write the plot \(path): \(String(cString: strerror(errno)))")
        }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        if written != bytes.count || closed != 0 {
            throw TextModelError(.io, "cannot write the plot \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Axis ticks at 1, 2 or 5 times a power of ten, covering [low, high].
enum Ticks {
    static func nice(low: Double, high: Double, count: Int = 5) -> (low: Double, high: Double, step: Double) {
        var lo = low, hi = high
        if !(hi > lo) { lo -= 0.5; hi += 0.5 }
        let raw = (hi - lo) / Double(max(count - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        return (floor(lo / step) * step, ceil(hi / step) * step, step)
    }

    /// A tick label with as many decimals as the step needs.
    static func label(_ value: Double, step: Double) -> String {
        let decimals = step >= 1 ? 0 : min(6, Int(ceil(-log10(step) - 1e-9)))
        return Output.format("%.\(decimals)f", abs(value) < step / 1e6 ? 0 : value)
    }
}
