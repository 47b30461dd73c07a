import FoundationEssentials
import PluginAPI
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A matrix page's Server-Sent Events: a `cell` event for each cell whose state changed since
/// the last look (all of them on the first), so a reconnecting client is simply brought up to date.
final class MatrixStream: WebEventSource {
    let id: String
    let url: URL
    let index: RunIndex
    let interval: Duration = .milliseconds(250)
    private let shown = Mutex<(cells: [Int: MatrixView.Cell], events: Int, quietPolls: Int)>(([:], 0, 0))

    init(id: String, url: URL, index: RunIndex) {
        (self.id, self.url, self.index) = (id, url, index)
    }

    func poll() -> (frame: String?, ended: Bool) {
        let view = MatrixView.read(id: id, url: url, index: index)
        return shown.withLock { shown in
            var frame = ""
            for cell in view.cells where shown.cells[cell.index] != cell {
                shown.cells[cell.index] = cell
                shown.events += 1
                let href = cell.runID.map { "/run?dir=" + HTML.queryComponent($0) } ?? "#"
                frame += EventStream.event("cell", id: String(shown.events), data: [
                    "index": .int(Int64(cell.index)), "text": .string(cell.text), "title": .string(cell.title),
                    "cls": .string(cell.cssClass), "href": .string(href),
                ])
            }
            if frame.isEmpty {
                shown.quietPolls += 1
                // A comment now and then keeps the connection known to be open.
                return (shown.quietPolls % 60 == 0 ? ": keep-alive\n\n" : nil, false)
            }
            return (frame, false)
        }
    }
}
