#if canImport(Glibc)
import Glibc
#endif
import TextModel

/// A Drawing rasterised into RGB pixels and encoded as PNG: shapes are painted without
/// anti-aliasing (a pixel is inked when its centre is inside the shape), text with
/// BitmapFont scaled to the font size, and the image is stored in uncompressed deflate
/// blocks (a valid PNG any reader opens, larger than a compressed one).
struct PNGImage {
    let width: Int
    let height: Int
    private var pixels: [UInt8]

    init(_ drawing: Drawing) {
        width = max(1, min(20_000, Self.index(drawing.width.rounded(.up))))
        height = max(1, min(20_000, Self.index(drawing.height.rounded(.up))))
        pixels = [UInt8](repeating: 255, count: width * height * 3)
        for shape in drawing.shapes { paint(shape) }
    }

    // MARK: painting

    private typealias RGB = (UInt8, UInt8, UInt8)

    private static func colour(_ text: String) -> RGB {
        var hex = Array(text.utf8.dropFirst())
        if hex.count == 3 { hex = hex.flatMap { [$0, $0] } }  // #abc = #aabbcc
        guard text.hasPrefix("#"), hex.count == 6, let v = UInt32(String(decoding: hex, as: UTF8.self), radix: 16) else {
            return (0, 0, 0)
        }
        return (UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
    }

    private mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.0
        pixels[i + 1] = c.1
        pixels[i + 2] = c.2
    }

    /// A coordinate as a pixel index, clamped so that no value (not even a non-finite
    /// one from an extreme plot range) can trap the conversion.
    private static func index(_ v: Double) -> Int {
        v.isFinite ? Int(max(-1e6, min(1e6, v.rounded(.down)))) : -1
    }

    /// Inks every pixel whose centre lies in [x0, x1) × [y0, y1).
    private mutating func fill(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: RGB) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let xs = max(0, Self.index((x0 - 0.5).rounded(.up))), xe = min(width - 1, Self.index((x1 - 0.5).rounded(.up)) - 1)
        let ys = max(0, Self.index((y0 - 0.5).rounded(.up))), ye = min(height - 1, Self.index((y1 - 0.5).rounded(.up)) - 1)
        guard xs <= xe, ys <= ye else { return }
        for y in ys...ye { for x in xs...xe { set(x, y, c) } }
    }

    /// Inks the pixels within `width / 2` of the segment (round ends, so joints close).
    private mutating func segment(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, width w: Double, _ c: RGB) {
        guard x1.isFinite, y1.isFinite, x2.isFinite, y2.isFinite, w.isFinite else { return }
        let r = min(max(w / 2, 0.5), 1e4)
        let dx = x2 - x1, dy = y2 - y1, length2 = dx * dx + dy * dy
        let xs = max(0, Self.index(min(x1, x2) - r - 1)), xe = min(width - 1, Self.index(max(x1, x2) + r + 1))
        let ys = max(0, Self.index(min(y1, y2) - r - 1)), ye = min(height - 1, Self.index(max(y1, y2) + r + 1))
        guard xs <= xe, ys <= ye else { return }
        for y in ys...ye {
            for x in xs...xe {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let t = length2 > 0 ? min(1, max(0, ((px - x1) * dx + (py - y1) * dy) / length2)) : 0
                let ex = px - (x1 + t * dx), ey = py - (y1 + t * dy)
                if ex * ex + ey * ey <= r * r { set(x, y, c) }
            }
        }
    }

    private mutating func paint(_ shape: Drawing.Shape) {
        switch shape {
        case let .rect(x, y, w, h, fill, stroke):
            self.fill(x, y, x + w, y + h, Self.colour(fill))
            if let stroke = stroke {
                let c = Self.colour(stroke)
                for (a, b, p, q) in [(x, y, x + w, y), (x, y + h, x + w, y + h), (x, y, x, y + h), (x + w, y, x + w, y + h)] {
                    segment(a, b, p, q, width: 1, c)
                }
            }
        case let .line(x1, y1, x2, y2, stroke, w):
            segment(x1, y1, x2, y2, width: w, Self.colour(stroke))
        case let .polyline(points, stroke, w):
            let c = Self.colour(stroke)
            for (a, b) in zip(points, points.dropFirst()) { segment(a.0, a.1, b.0, b.1, width: w, c) }
        case let .circle(x, y, radius, fill):
            segment(x, y, x, y, width: 2 * radius, Self.colour(fill))
        case let .text(text, x, y, size, anchor, fill, bold, rotate):
            paintText(text, x: x, y: y, size: size, anchor: anchor, colour: Self.colour(fill), bold: bold, degrees: rotate)
        }
    }

    /// Glyph cells of `size / 9` pixels (a 12 px font draws 7-row glyphs 9 px tall),
    /// the baseline at y, each ink cell a small square turned with the text.
    private mutating func paintText(_ text: String, x: Double, y: Double, size: Double, anchor: String,
                                    colour: RGB, bold: Bool, degrees: Double) {
        guard x.isFinite, y.isFinite, size.isFinite else { return }
        let cell = min(max(1, size / 9), 100)
        let scalars = Array(text.unicodeScalars)
        let advance = Double(BitmapFont.columns + 1) * cell
        let textWidth = Double(scalars.count) * advance - cell
        let startX = anchor == "middle" ? -textWidth / 2 : anchor == "end" ? -textWidth : 0
        let angle = degrees * Double.pi / 180, cosA = cos(angle), sinA = sin(angle)
        let step = min(0.5, cell / 2)
        for (i, scalar) in scalars.enumerated() {
            let rows = BitmapFont.glyph(scalar)
            for (row, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.columns where bits & (1 << (BitmapFont.columns - 1 - col)) != 0 {
                    // The cell in text coordinates (baseline at 0), sampled and turned.
                    let left = startX + Double(i) * advance + Double(col) * cell
                    let top = (Double(row) - Double(BitmapFont.rowsAboveBaseline)) * cell
                    var v = 0.0
                    while v < cell {
                        var u = 0.0
                        while u < cell + (bold ? cell * 0.6 : 0) {
                            let lx = left + u + step / 2, ly = top + v + step / 2
                            let px = x + lx * cosA - ly * sinA, py = y + lx * sinA + ly * cosA
                            set(Self.index(px), Self.index(py), colour)
                            u += step
                        }
                        v += step
                    }
                }
            }
        }
    }

    // MARK: encoding

    /// The PNG file: signature, IHDR (8-bit RGB), one IDAT of stored deflate blocks, IEND.
    var encoded: [UInt8] {
        var raw = [UInt8]()
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw += pixels[(y * width * 3)..<((y + 1) * width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset)
            zlib.append(offset + n == raw.count ? 1 : 0)  // BFINAL on the last, BTYPE 00 (stored)
            zlib += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        zlib += Self.bigEndian((b << 16) | a)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += Self.chunk("IHDR", Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height)) + [8, 2, 0, 0, 0])
        png += Self.chunk("IDAT", zlib)
        png += Self.chunk("IEND", [])
        return png
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(CRC32.checksum(body))
    }
}
