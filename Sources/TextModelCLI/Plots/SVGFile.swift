#if canImport(Glibc)
import Glibc
#endif
import TextModel

/// A small SVG builder: elements appended as text, numbers with two decimals, text
/// escaped. Enough for line charts and heat maps, no dependencies.
struct SVGDocument {
    let width: Double
    let height: Double
    private var body = ""

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    static func n(_ x: Double) -> String { Output.format("%.2f", x.isFinite ? x : 0) }

    static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) {
        body += "<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" fill=\"\(fill)\""
        if let stroke = stroke { body += " stroke=\"\(stroke)\"" }
        body += "/>\n"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        body += "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\""
        if let dash = dash { body += " stroke-dasharray=\"\(dash)\"" }
        body += "/>\n"
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2, dash: String? = nil) {
        guard !points.isEmpty else { return }
        body += "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\""
        if let dash = dash { body += " stroke-dasharray=\"\(dash)\"" }
        body += " points=\"" + points.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ") + "\"/>\n"
    }

    mutating func circle(_ x: Double, _ y: Double, radius: Double, fill: String) {
        body += "<circle cx=\"\(Self.n(x))\" cy=\"\(Self.n(y))\" r=\"\(Self.n(radius))\" fill=\"\(fill)\"/>\n"
    }

    /// Text at (x, y); `anchor` start, middle or end; `rotate` degrees about (x, y).
    mutating func text(_ text: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                       fill: String = "#222", bold: Bool = false, rotate: Double = 0) {
        body += "<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
        if bold { body += " font-weight=\"bold\"" }
        if rotate != 0 { body += " transform=\"rotate(\(Self.n(rotate)) \(Self.n(x)) \(Self.n(y)))\"" }
        body += ">\(Self.escape(text))</text>\n"
    }

    var text: String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n"
    }
}

enum SVGFile {
    /// Writes `text` to `path` (replacing it); a failure is a TM_ERR_IO naming the path.
    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else {
            throw TextModelError(.io, "cannot write the plot \(path): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
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
