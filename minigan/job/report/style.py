"""The report page's frame and styles: one inline stylesheet, no script, no web font, no link."""

STYLE = """
:root { --ink:#1d232b; --muted:#5b6673; --line:#e3e7ec; --accent:#1f77b4; --light:#a9cbe6; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; }
header h1 { margin: 4px 0 2px; font-size: 28px; }
.sub { color: var(--muted); margin: 0 0 14px; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background:#eef1f4;
  padding: 1px 4px; border-radius: 3px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin: 8px 0 14px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:150px; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .v { font-size:22px; font-weight:600; }
.card small { font-size:13px; color:var(--muted); font-weight:400; }
nav a { color:var(--accent); text-decoration:none; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:18px 22px; margin:18px 0; }
h2 { margin:0 0 12px; font-size:21px; }
h3 { margin:18px 0 8px; font-size:16px; }
.fig { display:grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap:24px; align-items:start;
  margin-bottom:8px; }
.fig img { width:100%; height:auto; border:1px solid var(--line); border-radius:4px; }
figure { margin:0; }
figure.big img { image-rendering: pixelated; }
figcaption { color:var(--muted); font-size:13px; text-align:center; }
.explain p, .explain ul { margin: 0 0 10px; }
.explain li { margin-bottom: 4px; }
.explain.prose { max-width: 900px; }
.wide { max-width: 1002px; margin: 0 auto 12px; }
.wide img { width:100%; height:auto; border:1px solid var(--line); border-radius:4px; }
.cols { display:grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap:28px; align-items:start;
  margin-bottom:8px; }
th small { font-weight:400; color:var(--muted); }
.strip { display:grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap:12px; margin-top:14px; }
.strip img { width:100%; height:auto; border:1px solid var(--line); border-radius:3px; }
.note { color:var(--muted); }
table { border-collapse:collapse; }
table.small { margin-top:8px; font-size:14px; }
table.small td, table.small th { padding:3px 10px; border-bottom:1px solid var(--line); text-align:right; }
table.small td:first-child, table.small th:first-child { text-align:left; }
table.config { width:100%; font-size:14px; }
table.config td:nth-child(-n+2) { white-space:nowrap; }
table.config td, table.config th { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:top; }
th { color:var(--muted); font-weight:600; }
pre.command { white-space:pre-wrap; overflow-wrap:break-word; background:#eef1f4; padding:8px 12px;
  border-radius:4px; margin:6px 0 12px; }
pre.command code { background:none; padding:0; }
table.flow { width:100%; font-size:13.5px; }
table.flow td, table.flow th { padding:3px 8px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:middle; }
table.flow td.layer { font-family: ui-monospace, Menlo, Consolas, monospace; white-space:nowrap; }
.lbars { display:inline-block; width:150px; vertical-align:middle; background:#f1f3f5; border-radius:2px; }
.lbar { display:block; height:6px; margin:1px 0; border-radius:2px; }
.lbar.first { background:var(--light); } .lbar.last { background:var(--accent); }
.lval { font-family: ui-monospace, Menlo, Consolas, monospace; font-size:12px; margin-left:8px; color:var(--muted); }
.na { color:#b0b8c1; }
.mix .mixrow { display:flex; align-items:center; gap:10px; margin:3px 0; }
.mix .name { width:110px; text-align:right; font-size:14px; }
.mix .val { width:52px; font-size:13px; color:var(--muted); }
.track { position:relative; flex:1; height:16px; background:#f1f3f5; border-radius:3px; }
.bar { position:absolute; left:0; top:0; bottom:0; background:var(--accent); border-radius:3px; }
.bar.low { background:#d62728; }
.tick { position:absolute; top:-2px; bottom:-2px; width:0; border-left:2px dashed #6e6e6e; }
.tick.cut { border-left:2px dotted #d62728; }
.legend { font-size:13px; color:var(--muted); display:flex; flex-wrap:wrap; gap:4px 18px; }
.swatch { display:inline-block; width:14px; height:10px; margin-right:6px; vertical-align:middle; }
.swatch.even { border-left:2px dashed #6e6e6e; } .swatch.cut { border-left:2px dotted #d62728; }
.swatch.low { background:#d62728; }
@media (max-width: 800px) {
  .fig, .cols { grid-template-columns: 1fr; } .strip { grid-template-columns: repeat(2, 1fr); } }
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="minigan report">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minigan: {title}</title>
<style>{style}</style>
</head>
<body>
<main>
{body}
<footer class="note">minigan run report: one self-contained file, every picture inside it.</footer>
</main>
</body>
</html>
"""
