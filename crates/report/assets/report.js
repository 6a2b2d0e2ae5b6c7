// MemWatchdog's HTML report: draws the sections from the JSON document in #mw-data
// (crates/report/src/data.rs). Every text from the report goes through textContent or an
// attribute, never through innerHTML: snapshot strings are hostile input.
'use strict';
(function () {
  const doc = JSON.parse(document.getElementById('mw-data').textContent);
  const app = document.getElementById('app');
  const report = doc.report;
  const SVG = 'http://www.w3.org/2000/svg';

  // ---- small helpers ----
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // The byte counts of crates/units (decimal units, one decimal below 10).
  function bytes(n) {
    const neg = n < 0;
    let v = Math.abs(n);
    if (v < 1000) return (neg ? '-' : '') + v + ' B';
    const units = ['kB', 'MB', 'GB', 'TB'];
    let u = -1;
    while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
    return (neg ? '-' : '') + (v < 10 ? v.toFixed(1) : v.toFixed(0)) + ' ' + units[u];
  }
  const signedBytes = (n) => (n > 0 ? '+' : '') + bytes(n);
  const count = (n) => Number(n).toLocaleString('en-US');
  const signedCount = (n) => (n > 0 ? '+' : '') + count(n);
  function baseName(url) {
    const i = url.lastIndexOf('/');
    return i >= 0 && i + 1 < url.length ? url.slice(i + 1) : url;
  }
  // An absolute file path or a file:// url opens in an editor through vscode://file/PATH:L:C.
  function editorHref(url, line, column) {
    let path = null;
    if (url.startsWith('file://')) {
      try { path = decodeURIComponent(new URL(url).pathname); } catch (_) { path = null; }
    } else if (url.startsWith('/')) {
      path = url;
    }
    if (path === null || !line) return null;
    return 'vscode://file' + encodeURI(path) + ':' + line + (column ? ':' + column : '');
  }
  // `file:line:col` of a frame or a FunctionInfo ({url|file, line, column, original}),
  // linked to the editor; the original source's position first when a source map gave one.
  function position(url, line, column, original) {
    const wrap = el('span', { class: 'pos' });
    const one = (u, l, c) => {
      const text = baseName(u) + (l ? ':' + l + (c ? ':' + c : '') : '');
      const href = editorHref(u, l, c);
      return href ? el('a', { class: 'src', href, title: u + (l ? ':' + l + ':' + (c || 1) : '') }, text)
        : el('span', { title: u }, text);
    };
    if (original) {
      wrap.append(one(original.url, original.line, original.column), ' (compiled: ', one(url, line, column), ')');
    } else if (url) {
      wrap.append(one(url, line, column));
    }
    return wrap;
  }
  function fnInfo(f) {
    if (!f) return null;
    return el('span', {}, el('code', {}, f.name), ' ', f.file ? position(f.file, f.line, f.column, f.original) : el('span', { class: 'pos' }, '(no script)'));
  }
  function section(id, title, ...children) {
    const s = el('section', { id }, el('h2', {}, title), ...children);
    app.append(s);
    return s;
  }
  function note(text) { return el('p', { class: 'note' }, text); }
  function bar(value, max) {
    const w = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
    const b = el('span', { class: 'bar' });
    b.style.width = w.toFixed(2) + '%';
    return el('span', { class: 'barwrap', title: bytes(value) }, b);
  }

  // ---- sortable table ----
  // columns: {title, value: row => sort key, cell: row => node|text, num: bool}
  function table(id, columns, rows, initial) {
    const thead = el('tr');
    const tbody = el('tbody');
    const t = el('table', { id, class: 'sortable-table' }, el('thead', {}, thead), tbody);
    let sortCol = initial ? initial.col : -1;
    let dir = initial ? initial.dir : 1;
    function draw() {
      const order = rows.slice();
      if (sortCol >= 0) {
        const key = columns[sortCol].value;
        order.sort((a, b) => {
          const x = key(a), y = key(b);
          return (typeof x === 'string' ? x.localeCompare(y) : x - y) * dir;
        });
      }
      tbody.replaceChildren(...order.map((r) => el('tr', {}, columns.map((c) => el('td', { class: c.num ? 'num' : null }, c.cell(r))))));
      thead.querySelectorAll('th').forEach((th, i) => {
        if (i === sortCol) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
        else th.removeAttribute('aria-sort');
      });
    }
    columns.forEach((c, i) => {
      const th = el('th', { class: (c.num ? 'num ' : '') + 'sortable', scope: 'col', title: 'Sort by ' + c.title }, c.title);
      th.addEventListener('click', () => {
        if (sortCol === i) dir = -dir;
        else { sortCol = i; dir = c.num ? -1 : 1; }
        draw();
      });
      thead.append(th);
    });
    draw();
    return t;
  }

  // ---- inputs ----
  function inputsTable(rows) {
    const cols = [
      { title: 'Role', value: (r) => r.role, cell: (r) => r.role },
      { title: 'File', value: (r) => r.name, cell: (r) => el('code', {}, r.name) },
      { title: 'File size', num: true, value: (r) => r.fileBytes ?? -1, cell: (r) => (r.fileBytes == null ? '—' : bytes(r.fileBytes)) },
      { title: 'Modified', value: (r) => r.modified ?? -1, cell: (r) => (r.modified == null ? '—' : new Date(r.modified).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')) },
    ].concat(rows.extra);
    return table('inputs', cols, rows.rows);
  }
  function input(given) { return doc.inputs[given - 1] || { name: '(input ' + given + ')', bytes: null, modified_ms: null }; }

  // ---- retainer tree ----
  // items: [{path, path_omitted, value, card: () => Node}], ranked; the first one's path is open.
  function retainerTree(id, items, what) {
    const root = { kids: new Map(), value: 0, items: [] };
    for (const item of items) {
      const steps = item.path.slice();
      if (item.path_omitted) {
        steps.splice(item.path_omitted.after, 0, { omitted: item.path_omitted.hops });
      }
      let node = root;
      node.value += item.value;
      for (const s of steps) {
        const key = s.omitted ? '…' + s.omitted : [s.edge, s.edge_type, s.class_name, s.node_type].join('\u0000');
        let next = node.kids.get(key);
        if (!next) { next = { step: s, kids: new Map(), value: 0, items: [] }; node.kids.set(key, next); }
        next.value += item.value;
        node = next;
      }
      node.items.push(item);
    }
    const max = root.value;
    // The top item's path is open: the nodes that hold it.
    function containsTop(node) { return node.items.includes(items[0]) || [...node.kids.values()].some(containsTop); }
    function render(node, top) {
      const ul = el('ul', { class: top ? 'tree top' : 'tree', role: top ? 'tree' : 'group' });
      const kids = [...node.kids.values()].sort((a, b) => b.value - a.value);
      for (const k of kids) ul.append(renderNode(k));
      for (const item of node.items) ul.append(el('li', { role: 'treeitem' }, item.card()));
      return ul;
    }
    function renderNode(node) {
      const s = node.step;
      const li = el('li', { role: 'treeitem' });
      const expandable = node.kids.size > 0 || node.items.length > 0;
      const expanded = expandable && items.length > 0 && containsTop(node);
      const label = s.omitted
        ? [el('span', { class: 'omitted' }, '… ' + count(s.omitted) + ' hops left out …')]
        : [el('span', { class: 'edge', title: s.edge_type + ' edge' }, s.edge_type !== 'shortcut' && /^\d+$/.test(s.edge) ? '[' + s.edge + ']' : s.edge),
          el('span', { class: 'etype' }, s.edge_type),
          '→',
          el('span', { class: 'cls', title: s.node_type + (s.name && s.name !== s.class_name ? ': ' + s.name : '') }, s.class_name),
          el('span', { class: 'etype' }, '@' + s.id)];
      const twisty = expandable ? el('button', { class: 'twisty', 'aria-expanded': String(expanded), 'aria-label': 'expand' }) : el('span', { class: 'leafpad' });
      const row = el('div', { class: 'row' }, twisty, ...label, bar(node.value, max), el('span', { class: 'size' }, bytes(node.value)));
      li.append(row);
      if (expandable) {
        const sub = render(node, false);
        sub.hidden = !expanded;
        li.append(sub);
        const toggle = () => {
          sub.hidden = !sub.hidden;
          twisty.setAttribute('aria-expanded', String(!sub.hidden));
        };
        twisty.addEventListener('click', (e) => { e.stopPropagation(); toggle(); });
        row.addEventListener('click', toggle);
      }
      return li;
    }
    const wrap = el('div', { id, class: 'retainer-tree' });
    wrap.append(note('Each row is one hop from a GC root: the edge (property, variable, element or internal link) and the class of the object it leads to; the bar is the ' + what + ' of the groups below it. Click a row to open or close it.'));
    wrap.append(render(root, true));
    return wrap;
  }
  function holdsList(holds) {
    if (!holds || holds.length === 0) return null;
    return el('div', {}, 'Holds: ', holds.map((h, i) => [i ? ', ' : '', el('span', { class: 'cls' }, h.class_name), ' ×' + count(h.count) + ' (' + bytes(h.bytes) + ')']));
  }

  // ---- charts ----
  function traceChart(trace) {
    const W = 960, H = 320, L = 70, R = 24, T = 56, B = 36;
    const pts = trace.points;
    const s = svg('svg', { class: 'chart', id: 'trace-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Heap floor over time' });
    const span = Math.max(trace.span_ms, 1);
    let ymax = 0;
    for (const p of pts) ymax = Math.max(ymax, p.heap_used, p.fitted_bytes || 0);
    ymax = ymax > 0 ? ymax * 1.05 : 1;
    const x = (t) => L + (t / span) * (W - L - R);
    const y = (v) => H - B - (v / ymax) * (H - T - B);
    for (let i = 0; i <= 4; i++) {
      const v = (ymax * i) / 4;
      s.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      s.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, bytes(Math.round(v))));
      const t = (span * i) / 4;
      s.append(svg('text', { x: x(t), y: H - B + 16, 'text-anchor': i === 4 ? 'end' : 'middle' }, duration(t)));
    }
    s.append(svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
    s.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
    if (pts.length > 0) {
      s.append(svg('polyline', { class: 'floor', points: pts.map((p) => x(p.t_ms).toFixed(1) + ',' + y(p.heap_used).toFixed(1)).join(' ') }));
      const fitted = pts.filter((p) => p.fitted_bytes != null);
      if (fitted.length > 1) s.append(svg('polyline', { class: 'fitted', points: fitted.map((p) => x(p.t_ms).toFixed(1) + ',' + y(p.fitted_bytes).toFixed(1)).join(' ') }));
    }
    const colors = { suspect: '#f0ad4e', leaking: '#d9534f', oom_risk: '#8b0000', normal: '#5cb85c' };
    // Labels of changes close together are stacked (up to four lines above the plot).
    const placed = [];
    trace.events.forEach((e) => {
      const ex = x(e.t_ms);
      const line = placed.filter((px) => Math.abs(px - ex) < 130).length % 4;
      placed.push(ex);
      const c = colors[e.state] || '#555';
      const g = svg('g', { class: 'ev-mark' });
      g.append(svg('title', {}, duration(e.t_ms) + ': ' + e.signal + ' ' + e.from + ' → ' + e.state + ', slope ' + e.slope.toFixed(1) + ' B/ms'));
      g.append(svg('line', { class: 'ev', x1: ex, x2: ex, y1: T, y2: H - B, stroke: c }));
      const label = svg('text', { x: ex + 3, y: 14 + line * 12 }, e.signal + ' → ' + e.state);
      label.style.fill = c;
      g.append(label);
      s.append(g);
    });
    return s;
  }
  function duration(ms) {
    const sec = ms / 1000;
    if (sec < 60) return sec.toFixed(sec < 10 ? 1 : 0) + ' s';
    if (sec < 3600) return Math.floor(sec / 60) + 'm' + String(Math.round(sec % 60)).padStart(2, '0') + 's';
    return Math.floor(sec / 3600) + 'h' + String(Math.floor((sec / 60) % 60)).padStart(2, '0') + 'm';
  }
  function traceSection(trace) {
    if (!trace) return;
    const events = table('trace-events', [
      { title: 'Time', num: true, value: (e) => e.t_ms, cell: (e) => duration(e.t_ms) },
      { title: 'Signal', value: (e) => e.signal, cell: (e) => e.signal },
      { title: 'Change', value: (e) => e.state, cell: (e) => e.from + ' → ' + e.state },
      { title: 'Slope', num: true, value: (e) => e.slope, cell: (e) => e.slope.toFixed(1) + ' B/ms' },
    ], trace.events);
    section('trace', 'Heap floor over time (trace)',
      note(count(trace.samples) + ' GC samples over ' + duration(trace.span_ms) + '; the floor is the heap used after each of the ' + count(trace.major_gcs) + ' major GCs (solid' + (trace.thinned ? ', thinned to the lowest and highest of each stretch' : '') + '), dashed the detector\u2019s fitted floor; vertical lines are the detector\u2019s state changes' + (trace.heap_limit ? '; V8 heap limit ' + bytes(trace.heap_limit) : '') + '.'),
      traceChart(trace),
      trace.events.length ? events : note('The detector changed no state: no leak declared.'),
      trace.event_count > trace.events.length ? note('Showing the first ' + trace.events.length + ' of ' + count(trace.event_count) + ' state changes.') : null);
  }

  // ---- flame chart of allocation growth by call stack ----
  function flame(sites) {
    const root = { frame: null, kids: new Map(), value: 0 };
    for (const site of sites) {
      let node = root;
      node.value += site.delta_bytes;
      const frames = site.frames.length ? site.frames.slice().reverse() : [{ function: '(no stack)', url: '', line: null, column: null, kind: 'vm' }];
      for (const f of frames) {
        const key = [f.function, f.url, f.line, f.column].join('\u0000');
        let next = node.kids.get(key);
        if (!next) { next = { frame: f, kids: new Map(), value: 0 }; node.kids.set(key, next); }
        next.value += site.delta_bytes;
        node = next;
      }
    }
    const detail = el('div', { id: 'frame-detail', class: 'note' }, 'Click a frame for its position and growth.');
    let selected = null;
    function frameText(f) {
      return f.function + (f.url ? ' (' + baseName((f.original || f).url) + (f.line ? ':' + (f.original || f).line + ':' + (f.original || f).column : '') + ')' : '');
    }
    function render(node, parentValue) {
      const box = el('div', { class: 'fnode' });
      box.style.width = parentValue > 0 ? ((node.value / parentValue) * 100).toFixed(3) + '%' : '100%';
      if (node.frame) {
        const f = node.frame;
        const fr = el('div', { class: 'frame ' + (f.kind || 'vm'), title: frameText(f) + ': +' + bytes(node.value) }, frameText(f));
        fr.addEventListener('click', () => {
          if (selected) selected.classList.remove('selected');
          selected = fr;
          fr.classList.add('selected');
          detail.replaceChildren(el('code', {}, f.function), ' ', f.url ? position(f.url, f.line, f.column, f.original) : el('span', { class: 'pos' }, '(' + f.kind + ')'), ' · +' + bytes(node.value) + ' of growth in the stacks through this frame');
        });
        box.append(fr);
      }
      const kids = el('div', { class: 'fkids' });
      for (const k of [...node.kids.values()].sort((a, b) => b.value - a.value)) kids.append(render(k, node.value));
      box.append(kids);
      return box;
    }
    const legend = el('div', { class: 'legend' }, ['user', 'node', 'builtin', 'vm'].map((k) => {
      const sw = el('i', { class: 'frame ' + k });
      return el('span', {}, sw, { user: 'application', node: 'Node.js', builtin: 'V8 builtin', vm: 'VM state' }[k]);
    }));
    return el('div', {}, note('Callers on top, the allocating frame at the bottom of each stack; a frame\u2019s width is the growth of live sampled bytes in the stacks through it.'), legend,
      el('div', { class: 'flame', id: 'flame' }, render(root, root.value)), detail);
  }

  // ---- kinds of report ----
  function leak() {
    const roles = ['base', 'target', 'final'];
    app.append(el('section', { id: 'inputs' }, el('h2', {}, 'Snapshots'), inputsTable({
      rows: report.snapshots.map((s, i) => {
        const inp = input(s.given);
        return { role: roles[i] || String(i + 1), name: inp.name, fileBytes: inp.bytes, modified: inp.modified_ms, s };
      }),
      extra: [
        { title: 'Objects', num: true, value: (r) => r.s.nodes, cell: (r) => count(r.s.nodes) },
        { title: 'Heap', num: true, value: (r) => r.s.total_bytes, cell: (r) => bytes(r.s.total_bytes) },
        { title: 'Native', num: true, value: (r) => r.s.native_bytes, cell: (r) => bytes(r.s.native_bytes) },
      ],
    }), report.reordered ? note('The snapshots were not given oldest first; they are compared in the order their contents show.') : null));

    const items = report.suspects.map((s) => ({
      path: s.path, path_omitted: s.path_omitted, value: s.delta_bytes,
      card: () => el('div', { class: 'card suspect', 'data-rank': s.rank },
        el('div', { class: 'title' }, el('span', { class: 'badge' }, '#' + s.rank), s.class_name, ' ', signedBytes(s.delta_bytes), ' · ', signedCount(s.delta_count), ' new objects · retains ', bytes(s.retained_bytes)),
        el('div', {}, 'Path: ', el('code', {}, s.path_text)),
        s.function ? el('div', {}, 'Closure defined at ', fnInfo(s.function)) : null,
        holdsList(s.holds),
        el('div', { class: 'note' }, 'Example object @' + s.example_id + ' (' + s.node_type + '; find it in DevTools\u2019 Memory panel)')),
    }));
    section('suspects', 'Leak suspects',
      note(count(report.new_objects) + ' objects allocated after the base are still alive (' + bytes(report.new_bytes) + '); grouped by retainer path, largest growth first.'),
      items.length ? retainerTree('suspect-tree', items, 'growth') : note('No leak suspects.'));

    const ctorCols = [
      { title: 'Class', value: (r) => r.class_name, cell: (r) => r.class_name },
      { title: 'New', num: true, value: (r) => r.new_count, cell: (r) => count(r.new_count) },
      { title: 'Deleted', num: true, value: (r) => r.deleted_count, cell: (r) => count(r.deleted_count) },
      { title: 'ΔCount', num: true, value: (r) => r.delta_count, cell: (r) => signedCount(r.delta_count) },
      { title: 'Alloc', num: true, value: (r) => r.alloc_bytes, cell: (r) => bytes(r.alloc_bytes) },
      { title: 'Freed', num: true, value: (r) => r.freed_bytes, cell: (r) => bytes(r.freed_bytes) },
      { title: 'ΔSize', num: true, value: (r) => r.delta_bytes, cell: (r) => signedBytes(r.delta_bytes) },
    ];
    section('constructors', 'Constructors (newest snapshot vs base)',
      note('Click a column heading to sort.'),
      table('constructors-table', ctorCols, report.constructors, { col: 6, dir: -1 }));
    const n = report.native;
    section('native', 'Native memory (outside the JS heap)',
      note(bytes(n.base_bytes) + ' → ' + bytes(n.newest_bytes) + ' (' + signedBytes(n.delta_bytes) + ')'),
      n.classes.length ? table('native-table', ctorCols, n.classes, { col: 6, dir: -1 }) : note('No native class changed.'));
  }

  function summary() {
    const t = report.snapshot;
    const inp = input(1);
    app.append(el('section', { id: 'inputs' }, el('h2', {}, 'Snapshot'), inputsTable({
      rows: [{ role: 'snapshot', name: inp.name, fileBytes: inp.bytes, modified: inp.modified_ms, t }],
      extra: [
        { title: 'Objects', num: true, value: (r) => r.t.nodes, cell: (r) => count(r.t.nodes) },
        { title: 'Heap', num: true, value: (r) => r.t.total_bytes, cell: (r) => bytes(r.t.total_bytes) },
        { title: 'Reachable', num: true, value: (r) => r.t.reachable_bytes, cell: (r) => bytes(r.t.reachable_bytes) },
        { title: 'Native', num: true, value: (r) => r.t.native_bytes, cell: (r) => bytes(r.t.native_bytes) },
      ],
    })));
    const items = report.holders.map((h) => ({
      path: h.path, path_omitted: h.path_omitted, value: h.retained_bytes,
      card: () => el('div', { class: 'card holder', 'data-rank': h.rank },
        el('div', { class: 'title' }, el('span', { class: 'badge' }, '#' + h.rank), h.class_name, ' ×' + count(h.count), ' retains ', bytes(h.retained_bytes)),
        el('div', {}, 'Path: ', el('code', {}, h.path_text)),
        h.function ? el('div', {}, 'Closure defined at ', fnInfo(h.function)) : null,
        holdsList(h.holds),
        el('div', { class: 'note' }, 'Largest object @' + h.example_id + ' (' + h.node_type + ')')),
    }));
    section('holders', 'What holds the memory', items.length ? retainerTree('holder-tree', items, 'retained size') : note('No holders.'));
    section('collections', 'Collections', table('collections-table', [
      { title: 'Kind', value: (r) => r.kind, cell: (r) => r.kind },
      { title: 'Class', value: (r) => r.class_name, cell: (r) => r.class_name },
      { title: 'Entries', num: true, value: (r) => r.entries, cell: (r) => count(r.entries) },
      { title: 'Entries hold', num: true, value: (r) => r.entries_bytes, cell: (r) => bytes(r.entries_bytes) },
      { title: 'Retained', num: true, value: (r) => r.retained_bytes, cell: (r) => bytes(r.retained_bytes) },
      { title: 'Path', value: (r) => r.path_text, cell: (r) => el('code', {}, r.path_text) },
    ], report.collections));
    section('closures', 'Closures by function', table('closures-table', [
      { title: 'Function', value: (r) => r.function.name, cell: (r) => fnInfo(r.function) },
      { title: 'Count', num: true, value: (r) => r.count, cell: (r) => count(r.count) },
      { title: 'Retained', num: true, value: (r) => r.retained_bytes, cell: (r) => bytes(r.retained_bytes) },
      { title: 'Path', value: (r) => r.path_text, cell: (r) => el('code', {}, r.path_text) },
    ], report.closures));
    const d = report.duplicated_strings;
    section('strings', 'Duplicated strings', note(bytes(d.wasted_bytes) + ' wasted by ' + count(d.values) + ' values stored more than once'), table('strings-table', [
      { title: 'Wasted', num: true, value: (r) => r.wasted_bytes, cell: (r) => bytes(r.wasted_bytes) },
      { title: 'Copies', num: true, value: (r) => r.copies, cell: (r) => count(r.copies) },
      { title: 'Length', num: true, value: (r) => r.length, cell: (r) => count(r.length) },
      { title: 'Value', value: (r) => r.value || '', cell: (r) => (r.value == null ? el('span', { class: 'note' }, '(hidden; --show-strings)') : el('code', {}, r.value)) },
      { title: 'Path', value: (r) => r.path_text, cell: (r) => el('code', {}, r.path_text) },
    ], d.top));
    const n = report.native;
    section('native', 'Native memory (outside the JS heap)', note(bytes(n.bytes) + ' in ' + count(n.count) + ' native objects'), table('native-table', [
      { title: 'Class', value: (r) => r.class_name, cell: (r) => r.class_name },
      { title: 'Count', num: true, value: (r) => r.count, cell: (r) => count(r.count) },
      { title: 'Bytes', num: true, value: (r) => r.bytes, cell: (r) => bytes(r.bytes) },
      { title: 'Path of the largest', value: (r) => r.path_text, cell: (r) => el('code', {}, r.path_text) },
    ], n.classes));
    if (report.detached) {
      const det = report.detached;
      section('detached', 'Detached objects', note(count(det.count) + ' objects, ' + bytes(det.bytes) + ' (retaining ' + bytes(det.retained_bytes) + ')'),
        table('detached-table', [
          { title: 'Class', value: (r) => r.class_name, cell: (r) => r.class_name },
          { title: 'Count', num: true, value: (r) => r.count, cell: (r) => count(r.count) },
          { title: 'Bytes', num: true, value: (r) => r.bytes, cell: (r) => bytes(r.bytes) },
        ], det.classes));
    }
  }

  function profile() {
    const roles = ['base', 'leak', 'final'];
    app.append(el('section', { id: 'inputs' }, el('h2', {}, 'Profiles'), inputsTable({
      rows: report.profiles.map((p, i) => {
        const inp = input(i + 1);
        return { role: roles[i], name: inp.name, fileBytes: inp.bytes, modified: inp.modified_ms, p };
      }),
      extra: [
        { title: 'Live sampled', num: true, value: (r) => r.p.live_bytes, cell: (r) => bytes(r.p.live_bytes) },
        { title: 'Samples', num: true, value: (r) => r.p.samples ?? -1, cell: (r) => (r.p.samples == null ? '—' : count(r.p.samples)) },
        { title: 'Call tree nodes', num: true, value: (r) => r.p.nodes, cell: (r) => count(r.p.nodes) },
      ],
    }), note('Live sampled bytes grew by ' + signedBytes(report.growth_bytes) + '.')));
    section('flame-section', 'Allocation growth by call stack', report.sites.length ? flame(report.sites) : note('No allocation site grew.'));
    const perProfile = report.profiles.map((_, i) => ({ title: roles[i], num: true, value: (r) => r.bytes[i], cell: (r) => bytes(r.bytes[i]) }));
    section('sites', 'Allocation sites', table('sites-table', [
      { title: '#', num: true, value: (r) => r.rank, cell: (r) => r.rank },
      { title: 'Growth', num: true, value: (r) => r.delta_bytes, cell: (r) => signedBytes(r.delta_bytes) },
    ].concat(perProfile, [
      { title: 'ΔSamples', num: true, value: (r) => r.delta_samples ?? 0, cell: (r) => (r.delta_samples == null ? '—' : signedCount(r.delta_samples)) },
      { title: 'Site', value: (r) => r.site, cell: (r) => {
        const f = r.frames[r.user_frame ?? 0];
        return f ? el('span', {}, el('code', {}, f.function), ' ', f.url ? position(f.url, f.line, f.column, f.original) : '') : el('code', {}, r.site);
      } },
    ]), report.sites));
    section('functions', 'Functions', table('functions-table', [
      { title: 'Function', value: (r) => r.function.function, cell: (r) => el('span', {}, el('code', {}, r.function.function), ' ', r.function.url ? position(r.function.url, r.function.line, r.function.column, r.function.original) : '') },
      { title: 'Growth', num: true, value: (r) => r.delta_bytes, cell: (r) => signedBytes(r.delta_bytes) },
      { title: 'Stacks', num: true, value: (r) => r.stacks, cell: (r) => count(r.stacks) },
    ], report.functions));
  }

  ({ leak, summary, profile })[doc.kind]();
  traceSection(doc.trace);
  performance.mark('mw-drawn');
  document.body.setAttribute('data-rendered', 'true');
})();
