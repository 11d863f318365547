import TextModel

/// Training curves from a training report: loss per epoch (training and validation) in
/// one panel and accuracy per epoch (training and validation) in another; the accuracy
/// panel is left out for regression, which has none.
struct TrainingCurvesPlot {
    let report: TrainingReport
    let title: String

    static let trainColour = "#1f77b4", validColour = "#ff7f0e"

    var drawing: Drawing {
        let epochs = report.epochs
        let loss: [(String, String, [Double?])] = [
            ("training", Self.trainColour, epochs.map { $0.trainLoss }),
            ("validation", Self.validColour, epochs.map { $0.validLoss }),
        ]
        let accuracy: [(String, String, [Double?])] = [
            ("training", Self.trainColour, epochs.map { $0.trainAccuracy }),
            ("validation", Self.validColour, epochs.map { $0.validAccuracy }),
        ]
        var panels = [("loss", loss)]
        if accuracy.contains(where: { $0.2.contains { $0?.isFinite == true } }) { panels.append(("accuracy", accuracy)) }
        let panelWidth = 420.0, panelHeight = 300.0
        var doc = Drawing(width: 40 + Double(panels.count) * (panelWidth + 40), height: panelHeight + 110)
        doc.text(title, x: doc.width / 2, y: 24, size: 15, anchor: "middle", bold: true)
        for (i, panel) in panels.enumerated() {
            drawPanel(&doc, name: panel.0, series: panel.1, x: 70 + Double(i) * (panelWidth + 40), y: 50,
                      width: panelWidth - 40, height: panelHeight - 40, epochs: epochs.count)
        }
        // Legend, once, under the panels.
        let ly = panelHeight + 80
        for (i, (name, colour)) in [("training", Self.trainColour), ("validation", Self.validColour)].enumerated() {
            let lx = doc.width / 2 - 110 + Double(i) * 130
            doc.line(lx, ly, lx + 28, ly, stroke: colour, width: 2.5)
            doc.text(name, x: lx + 34, y: ly + 4, size: 12)
        }
        return doc
    }

    private func drawPanel(_ doc: inout Drawing, name: String, series: [(String, String, [Double?])],
                           x: Double, y: Double, width: Double, height: Double, epochs: Int) {
        let values = series.flatMap { $0.2.compactMap { $0 }.filter(\.isFinite) }
        let ticks = Ticks.nice(low: values.min() ?? 0, high: values.max() ?? 1)
        let xMax = Double(max(epochs, 2))
        func px(_ epoch: Int) -> Double { x + (Double(epoch) - 1) / (xMax - 1) * width }
        func py(_ v: Double) -> Double { y + height - (v - ticks.low) / (ticks.high - ticks.low) * height }
        doc.rect(x: x, y: y, width: width, height: height, fill: "#fafafa", stroke: "#999")
        var v = ticks.low
        while v <= ticks.high + ticks.step / 2 {
            doc.line(x, py(v), x + width, py(v), stroke: "#e2e2e2")
            doc.text(Ticks.label(v, step: ticks.step), x: x - 6, y: py(v) + 4, size: 11, anchor: "end")
            v += ticks.step
        }
        let xStep = max(1, Int((Double(epochs) / 10).rounded(.up)))
        for epoch in stride(from: 1, through: max(epochs, 1), by: xStep) {
            doc.line(px(epoch), y + height, px(epoch), y + height + 4, stroke: "#999")
            doc.text(String(epoch), x: px(epoch), y: y + height + 17, size: 11, anchor: "middle")
        }
        doc.text("epoch", x: x + width / 2, y: y + height + 34, size: 12, anchor: "middle")
        doc.text(name, x: x - 44, y: y + height / 2, size: 12, anchor: "middle", rotate: -90)
        for (_, colour, points) in series {
            // A missing value (no validation data, or regression's accuracy) breaks the line.
            var run = [(Double, Double)]()
            for (i, value) in points.enumerated() {
                if let value = value, value.isFinite {
                    run.append((px(i + 1), py(value)))
                    doc.circle(px(i + 1), py(value), radius: 3, fill: colour)
                } else {
                    doc.polyline(run, stroke: colour)
                    run = []
                }
            }
            doc.polyline(run, stroke: colour)
        }
    }
}
