import CashierModel
import Foundation
import Ledger

/// Escapes text for HTML and SVG element content and attribute values
/// (`&`, `<`, `>`, `"`, `'`). Every value that came from input or the API goes through it.
public func htmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            // Control characters other than tab/newline would make the document invalid XML inside SVG.
            if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

/// Small inline SVG charts (no script, no external asset): drawn as plain shapes
/// so the file renders the same in a browser, offline, or as a mail attachment.
enum SVGChart {
    struct Bar {
        var label: String
        var value: Int
        var color: String
    }

    static let okColor = "#2f855a", otherColor = "#dd6b20", barColor = "#2b6cb0"
    static let palette = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030", "#319795", "#718096"]

    /// Horizontal bars with the label left and the value right.
    static func horizontalBars(_ bars: [Bar], width: Int = 460, title: String) -> String {
        let rowHeight = 26, labelWidth = 110, valueWidth = 70
        let height = max(1, bars.count) * rowHeight + 10
        let maxValue = max(1, bars.map(\.value).max() ?? 1)
        let plot = width - labelWidth - valueWidth
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)"><title>\#(htmlEscape(title))</title>"#
        for (i, bar) in bars.enumerated() {
            let y = 5 + i * rowHeight
            let w = bar.value == 0 ? 0 : max(2, bar.value * plot / maxValue)
            s += #"<text x="\#(labelWidth - 8)" y="\#(y + 17)" text-anchor="end" class="lbl">\#(htmlEscape(bar.label))</text>"#
            s += #"<rect x="\#(labelWidth)" y="\#(y + 4)" width="\#(w)" height="\#(rowHeight - 8)" rx="2" fill="\#(bar.color)"/>"#
            s += #"<text x="\#(labelWidth + w + 6)" y="\#(y + 17)" class="val">\#(bar.value)</text>"#
        }
        return s + "</svg>"
    }

    /// Stacked columns over time: `ok` (green) under `other` (orange).
    static func throughput(_ t: Throughput, width: Int = 460, height: Int = 180) -> String {
        let count = t.succeeded.count
        guard count > 0, let start = t.start else { return empty("no API calls in this run", width: width) }
        let left = 44, bottom = 28, top = 10, right = 8
        let plotW = width - left - right, plotH = height - top - bottom
        let totals = zip(t.succeeded, t.other).map { $0 + $1 }
        let maxValue = max(1, totals.max() ?? 1)
        let barW = max(1.0, Double(plotW) / Double(count))
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)"><title>API calls per \#(t.bucketSeconds) s</title>"#
        s += #"<line x1="\#(left)" y1="\#(top + plotH)" x2="\#(left + plotW)" y2="\#(top + plotH)" class="axis"/>"#
        s += #"<text x="\#(left - 4)" y="\#(top + 8)" text-anchor="end" class="tick">\#(maxValue)</text>"#
        s += #"<text x="\#(left - 4)" y="\#(top + plotH)" text-anchor="end" class="tick">0</text>"#
        for i in 0..<count {
            let x = Double(left) + Double(i) * barW
            let okH = t.succeeded[i] * plotH / maxValue
            let otherH = t.other[i] * plotH / maxValue
            let w = String(format: "%.2f", max(1, barW - (barW > 3 ? 1 : 0)))
            let xs = String(format: "%.2f", x)
            if okH > 0 {
                s += #"<rect x="\#(xs)" y="\#(top + plotH - okH)" width="\#(w)" height="\#(okH)" fill="\#(okColor)"><title>\#(t.succeeded[i]) succeeded</title></rect>"#
            }
            if otherH > 0 {
                s += #"<rect x="\#(xs)" y="\#(top + plotH - okH - otherH)" width="\#(w)" height="\#(otherH)" fill="\#(otherColor)"><title>\#(t.other[i]) not succeeded</title></rect>"#
            }
        }
        let end = start.addingTimeInterval(Double(count * t.bucketSeconds))
        s += #"<text x="\#(left)" y="\#(height - 8)" class="tick">\#(clock(start))</text>"#
        s += #"<text x="\#(left + plotW)" y="\#(height - 8)" text-anchor="end" class="tick">\#(clock(end))</text>"#
        s += #"<text x="\#(left + plotW / 2)" y="\#(height - 8)" text-anchor="middle" class="tick">calls per \#(t.bucketSeconds) s (UTC)</text>"#
        return s + "</svg>"
    }

    /// A latency histogram for one operation (buckets of ``OperationStats/latencyBounds``).
    static func latency(_ op: OperationStats, width: Int = 300, height: Int = 150) -> String {
        let bounds = OperationStats.latencyBounds
        let labels = bounds.map { $0 >= 1000 ? "\($0 / 1000)s" : "\($0)" } + [">" + (bounds.last! >= 1000 ? "\(bounds.last! / 1000)s" : "\(bounds.last!)")]
        let left = 8, bottom = 30, top = 16
        let plotW = width - 2 * left, plotH = height - top - bottom
        let maxValue = max(1, op.histogram.max() ?? 1)
        let barW = plotW / labels.count
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)"><title>\#(htmlEscape(op.operation.rawValue)) latency (ms)</title>"#
        s += #"<line x1="\#(left)" y1="\#(top + plotH)" x2="\#(left + plotW)" y2="\#(top + plotH)" class="axis"/>"#
        for (i, n) in op.histogram.enumerated() {
            let h = n * plotH / maxValue
            let x = left + i * barW
            if n > 0 {
                s += #"<rect x="\#(x + 1)" y="\#(top + plotH - h)" width="\#(barW - 2)" height="\#(max(1, h))" fill="\#(barColor)"><title>≤ \#(labels[i]) ms: \#(n)</title></rect>"#
                s += #"<text x="\#(x + barW / 2)" y="\#(top + plotH - h - 3)" text-anchor="middle" class="tick">\#(n)</text>"#
            }
            s += #"<text x="\#(x + barW / 2)" y="\#(top + plotH + 12)" text-anchor="middle" class="tick">\#(labels[i])</text>"#
        }
        s += #"<text x="\#(width / 2)" y="\#(height - 4)" text-anchor="middle" class="tick">ms (upper bound of bucket)</text>"#
        return s + "</svg>"
    }

    /// Open breaks per currency, stacked by field.
    static func breaksByCurrency(_ breaks: [Break], width: Int = 460) -> String {
        let open = breaks.filter(\.isOpenDrift)
        guard !open.isEmpty else { return empty("no open breaks", width: width) }
        let fields = ["pendingPayoutTotal", "balance", "bonusBalance", "depositRequestMissing", "depositRequestDuplicate"]
        let colors = ["#c53030", "#2b6cb0", "#6b46c1", "#b7791f", "#718096"]
        var byCurrency: [String: [String: Int]] = [:]
        for b in open { byCurrency[b.currency, default: [:]][b.field.rawValue, default: 0] += 1 }
        let currencies = byCurrency.keys.sorted()
        let rowHeight = 24, labelWidth = 60, legend = 22
        let height = currencies.count * rowHeight + 2 * legend + 10
        let maxValue = max(1, currencies.map { byCurrency[$0]!.values.reduce(0, +) }.max() ?? 1)
        let plot = width - labelWidth - 50
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\#(width)" height="\#(height)" viewBox="0 0 \#(width) \#(height)"><title>open breaks by currency</title>"#
        for (i, currency) in currencies.enumerated() {
            let y = 5 + i * rowHeight
            s += #"<text x="\#(labelWidth - 8)" y="\#(y + 16)" text-anchor="end" class="lbl">\#(htmlEscape(currency))</text>"#
            var x = labelWidth
            var total = 0
            for (f, field) in fields.enumerated() {
                let n = byCurrency[currency]?[field] ?? 0
                guard n > 0 else { continue }
                let w = max(2, n * plot / maxValue)
                s += #"<rect x="\#(x)" y="\#(y + 3)" width="\#(w)" height="\#(rowHeight - 6)" fill="\#(colors[f])"><title>\#(field): \#(n)</title></rect>"#
                x += w
                total += n
            }
            let others = (byCurrency[currency] ?? [:]).filter { !fields.contains($0.key) }.values.reduce(0, +)
            s += #"<text x="\#(x + 6)" y="\#(y + 16)" class="val">\#(total + others)</text>"#
        }
        var lx = 4
        var ly = currencies.count * rowHeight + 12
        for (f, field) in fields.enumerated() {
            let itemWidth = 22 + field.count * 6
            if lx + itemWidth > width { lx = 4; ly += legend }
            s += #"<rect x="\#(lx)" y="\#(ly)" width="10" height="10" fill="\#(colors[f])"/><text x="\#(lx + 13)" y="\#(ly + 9)" class="tick">\#(field)</text>"#
            lx += itemWidth
        }
        return s + "</svg>"
    }

    static func empty(_ message: String, width: Int) -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="\#(width)" height="40" viewBox="0 0 \#(width) 40"><text x="8" y="24" class="tick">\#(htmlEscape(message))</text></svg>"#
    }

    static func clock(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "HH:mm:ss"
        return f.string(from: date)
    }
}
