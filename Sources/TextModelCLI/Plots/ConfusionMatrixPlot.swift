import TextModel

/// A confusion matrix as a heat map: rows the true labels, columns the predicted ones,
/// each cell shaded by its share of its row (the row's recall on the diagonal) and
/// labelled with its count when the cells are large enough to read.
struct ConfusionMatrixPlot {
    let metrics: ClassificationMetrics
    let title: String

    var drawing: Drawing {
        let labels = metrics.labels, n = labels.count
        let cell = max(14, min(64, 560 / Double(max(n, 1))))
        let longest = Double(min(labels.map(\.count).max() ?? 1, 24))
        let margin = 30 + longest * 7
        // Wide enough for the title too: about 8.5 px a character at 14 px in SVG, 9.3 in
        // the PNG's bitmap font (6 cells of 14/9 px), so 9.5 covers both.
        var doc = Drawing(width: max(margin + Double(n) * cell + 40, Double(title.count) * 9.5 + 24),
                          height: 60 + Double(n) * cell + margin + 20)
        doc.text(title, x: doc.width / 2, y: 22, size: 14, anchor: "middle", bold: true)
        doc.text("accuracy \(Output.fixed(metrics.accuracy))  macro-F1 \(Output.fixed(metrics.macroF1))",
                 x: doc.width / 2, y: 40, size: 12, anchor: "middle")
        let top = 56.0
        for (i, row) in metrics.confusion.enumerated() {
            let total = Double(max(row.reduce(0, +), 1))
            for (j, count) in row.enumerated() {
                let share = Double(count) / total
                let cx = margin + Double(j) * cell, cy = top + Double(i) * cell
                doc.rect(x: cx, y: cy, width: cell, height: cell, fill: Self.shade(share), stroke: "#ffffff")
                if cell >= 22 {
                    doc.text(String(count), x: cx + cell / 2, y: cy + cell / 2 + 4, size: min(13, cell / 2.6),
                             anchor: "middle", fill: share > 0.55 ? "#ffffff" : "#222")
                }
            }
            doc.text(String(labels[i].prefix(24)), x: margin - 6, y: top + (Double(i) + 0.5) * cell + 4, size: 11, anchor: "end")
        }
        let bottom = top + Double(n) * cell
        for (j, label) in labels.enumerated() {
            let lx = margin + (Double(j) + 0.5) * cell
            doc.text(String(label.prefix(24)), x: lx, y: bottom + 12, size: 11, anchor: "end", rotate: -45)
        }
        doc.text("true label", x: 12, y: top + Double(n) * cell / 2, size: 12, anchor: "middle", rotate: -90)
        doc.text("predicted label", x: margin + Double(n) * cell / 2, y: doc.height - 6, size: 12, anchor: "middle")
        return doc
    }

    /// White to dark blue as `share` goes from 0 to 1.
    static func shade(_ share: Double) -> String {
        let t = min(1, max(0, share))
        func channel(_ low: Double) -> Int { Int((255 - (255 - low) * t).rounded()) }
        return Output.format("#%02x%02x%02x", channel(33), channel(102), channel(172))
    }
}
