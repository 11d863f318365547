/// A Drawing as SVG text (numbers with two decimals, text escaped).
extension Drawing {
    var svg: String {
        var body = ""
        for shape in shapes {
            switch shape {
            case let .rect(x, y, width, height, fill, stroke):
                body += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(fill)\""
                if let stroke = stroke { body += " stroke=\"\(stroke)\"" }
                body += "/>\n"
            case let .line(x1, y1, x2, y2, stroke, width):
                body += "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"/>\n"
            case let .polyline(points, stroke, width):
                body += "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\" points=\""
                body += points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ") + "\"/>\n"
            case let .circle(x, y, radius, fill):
                body += "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(radius))\" fill=\"\(fill)\"/>\n"
            case let .text(text, x, y, size, anchor, fill, bold, rotate):
                body += "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
                if bold { body += " font-weight=\"bold\"" }
                if rotate != 0 { body += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
                body += ">\(Drawing.escape(text))</text>\n"
            }
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n"
    }

    private func n(_ x: Double) -> String { Output.format("%.2f", x.isFinite ? x : 0) }

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
}
