/// The page's stylesheet and script, served from the binary (`/static/web.css`,
/// `/static/web.js`): no toolchain, no CDN, works offline. The script only follows a live
/// run's or matrix's event stream; it never builds HTML from text (`textContent` only).
enum Assets {
    static let css = """
        :root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --run: #0969da; --muted: #6e7781; }
        body { font: 15px/1.4 system-ui, sans-serif; margin: 0; }
        header { padding: .5rem 1rem; border-bottom: 1px solid #8884; }
        header a { font-weight: 600; text-decoration: none; }
        main { padding: 0 1rem 2rem; max-width: 1200px; }
        table { border-collapse: collapse; margin: .5rem 0; }
        th, td { text-align: left; padding: .2rem .6rem; border-bottom: 1px solid #8883; vertical-align: top; }
        .command, .digest, .run-id, .console, .timeline { font-family: ui-monospace, monospace; font-size: 13px; }
        .digest { word-break: break-all; }
        .diff { font-family: ui-monospace, monospace; font-size: 13px; white-space: pre-wrap; word-break: break-all; }
        .console { background: #111; color: #ddd; padding: .6rem; max-height: 32rem; overflow: auto; white-space: pre-wrap; word-break: break-all; }
        .timeline { padding-left: 1.5rem; }
        .timeline .t { display: inline-block; min-width: 6rem; color: var(--muted); }
        .timeline .ev { font-weight: 600; }
        .outcome { font-size: 1.1rem; font-weight: 600; }
        .facts dt { float: left; clear: left; width: 6rem; color: var(--muted); }
        .facts dd { margin-left: 7rem; }
        .live { color: var(--run); }
        .live.ended { color: var(--muted); }
        .empty { color: var(--muted); }
        .g-pass, .g-done { color: var(--ok); }
        .g-fail, .g-error { color: var(--bad); }
        .g-na, .g-unknown { color: var(--warn); }
        .g-running { color: var(--run); }
        .g-notrun { color: var(--muted); }
        table.grid td.cell { text-align: center; min-width: 6rem; font-weight: 600; color: #fff; }
        table.grid td.cell a { color: inherit; display: block; }
        table.grid td.g-pass { background: var(--ok); }
        table.grid td.g-done { background: #2da44e; }
        table.grid td.g-fail, table.grid td.g-error { background: var(--bad); }
        table.grid td.g-na, table.grid td.g-unknown { background: var(--warn); }
        table.grid td.g-running { background: var(--run); }
        table.grid td.g-notrun { background: #8886; color: inherit; }
        """

    static let js = """
        // Follows the event stream of a live run or matrix page. No polling: the browser's
        // EventSource keeps one connection and reconnects with Last-Event-ID by itself.
        "use strict";
        (function () {
          var live = document.getElementById("live");
          if (!live || !window.EventSource) { return; }
          var source = new EventSource(live.getAttribute("data-events"));
          source.addEventListener("open", function () { live.setAttribute("data-open", "1"); });
          function text(tag, content, cls) {
            var node = document.createElement(tag);
            node.textContent = content;
            if (cls) { node.className = cls; }
            return node;
          }
          source.addEventListener("update", function (event) {
            var update = JSON.parse(event.data);
            var timeline = document.getElementById("timeline");
            (update.timeline || []).forEach(function (item) {
              var li = document.createElement("li");
              li.appendChild(text("span", item.time, "t"));
              li.appendChild(document.createTextNode(" "));
              li.appendChild(text("span", item.event, "ev"));
              li.appendChild(document.createTextNode(" "));
              li.appendChild(text("span", item.detail, "detail"));
              timeline.appendChild(li);
            });
            var requests = document.getElementById("requests");
            Object.keys(update.requests || {}).forEach(function (status) {
              var row = null;
              for (var i = 0; i < requests.rows.length; i++) {
                if (requests.rows[i].getAttribute("data-status") === status) { row = requests.rows[i]; }
              }
              if (!row) {
                row = requests.insertRow(-1);
                row.setAttribute("data-status", status);
                row.insertCell(-1).textContent = status;
                row.insertCell(-1).textContent = "0";
              }
              row.cells[1].textContent = String(Number(row.cells[1].textContent) + update.requests[status]);
            });
            var results = document.getElementById("results");
            (update.results || []).forEach(function (result) {
              var row = results.insertRow(-1);
              row.insertCell(-1).textContent = result.path;
              row.insertCell(-1).textContent = result.size;
              var digest = row.insertCell(-1);
              digest.textContent = result.sha256;
              digest.className = "digest";
              var link = document.createElement("a");
              link.setAttribute("href", result.href);
              link.setAttribute("download", "");
              link.textContent = result.name;
              row.insertCell(-1).appendChild(link);
            });
            var console = document.getElementById("console");
            var lines = update.console || [];
            if (lines.length) {
              var atEnd = console.scrollTop + console.clientHeight >= console.scrollHeight - 4;
              console.appendChild(document.createTextNode(lines.join("\\n") + "\\n"));
              if (atEnd) { console.scrollTop = console.scrollHeight; }
            }
            if (update.outcome) {
              var outcome = document.getElementById("outcome");
              outcome.textContent = update.outcome.line || update.outcome.outcome;
              outcome.className = "outcome " + (update.outcome.outcome === "completed" ? "g-done" : "g-error");
            }
          });
          source.addEventListener("cell", function (event) {
            var cell = JSON.parse(event.data);
            var td = document.getElementById("cell-" + cell.index);
            if (!td) { return; }
            td.className = "cell " + cell.cls;
            var link = td.getElementsByTagName("a")[0];
            if (link) { link.textContent = cell.text; link.title = cell.title; link.setAttribute("href", cell.href); }
          });
          source.addEventListener("end", function () {
            source.close();
            live.textContent = "finished";
            live.className = "live ended";
            // Once, at the end: the finished page has the results and platforms in full.
            if (document.getElementById("console")) { window.location.reload(); }
          });
        })();
        """
}
