// mimoping dashboard: starts tasks (POST /tasks), follows one over Server-Sent Events, lists agents and tasks.
'use strict';

const $ = (id) => document.getElementById(id);
const COLORS = ['#2f6fed', '#1f9d55', '#c77d00', '#8e44ad', '#16a2b8', '#e8590c', '#5c7cfa', '#d6336c', '#2b8a3e', '#7048e8'];
const MAX_POINTS = 20000;

let view = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const ms = (v) => (v === undefined || v === null || Number.isNaN(v)) ? '–' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0);

const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');

function percentile(sorted, p) {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
}

/** One task being watched: its event stream, chart points and per-target stats. */
class TaskView {
  constructor(id) {
    this.id = id;
    this.pairs = new Map();
    this.points = [];
    this.timeouts = [];
    this.dirty = true;
    this.plot = null;
    this.plotSeries = 0;
    $('task-title').textContent = id;
    $('stats').tBodies[0].replaceChildren();
    $('errors').replaceChildren(el('li', {class: 'none muted'}, 'none'));
    $('chart').replaceChildren();
    $('chart').dataset.points = '0';
    this.setState('connecting');
    this.source = new EventSource('/tasks/' + id + '/events');
    this.source.onmessage = (e) => this.onEvent(JSON.parse(e.data));
    this.source.onerror = () => {
      if (this.source.readyState !== EventSource.CLOSED || (this.state !== 'running' && this.state !== 'connecting')) return;
      // closed for good: a task the hub does not know (never, or forgotten since it finished), or a hub gone
      fetch('/tasks/' + encodeURIComponent(id)).then((r) => {
        if (r.status === 404) {
          this.setState('unknown');
          this.notice('stream', 'this hub has no task ' + id + ': finished tasks are forgotten after a while');
        } else {
          this.notice('stream', 'the stream closed; reload to resume');
        }
      }, () => this.notice('stream', 'the hub does not answer; reload to resume'));
    };
    this.timer = setInterval(() => this.render(), 200);
  }

  close() {
    this.source.close();
    clearInterval(this.timer);
    if (this.plot) this.plot.destroy();
  }

  setState(state, progress) {
    this.state = state;
    const badge = $('task-state');
    badge.textContent = state;
    badge.className = 'badge ' + state;
    $('cancel').hidden = state !== 'running';
    if (progress !== undefined) $('task-progress').textContent = progress;
  }

  pair(from, target, ip) {
    const key = from + '\u0000' + target;
    let p = this.pairs.get(key);
    if (!p) {
      p = {from, target, ip: ip || '', sent: 0, recv: 0, timeouts: 0, dups: 0, rtts: [], last: undefined, final: null,
        color: COLORS[this.pairs.size % COLORS.length], index: this.pairs.size};
      this.pairs.set(key, p);
    }
    if (ip && !p.ip) p.ip = ip;
    return p;
  }

  onEvent(ev) {
    const d = ev.data, from = ev.metadata.from;
    switch (ev.type) {
      case 'task':
        this.setState('running');
        $('task-progress').textContent = d.targets.length + ' target(s) × ' + d.count + ' every ' + d.interval + ' ms from ' + d.from.join(', ');
        break;
      case 'pkt_recv': {
        const p = this.pair(from, d.target, d.ip_addr);
        p.sent++; p.recv++; p.last = d.rtt; p.rtts.push(d.rtt);
        this.points.push([Date.parse(d.sent_at) / 1000, p.index, d.rtt]);
        break;
      }
      case 'pkt_dup_recv': this.pair(from, d.target, d.ip_addr).dups++; break;
      case 'pkt_timeout': {
        const p = this.pair(from, d.target, d.ip_addr);
        p.sent++; p.timeouts++;
        this.timeouts.push([Date.parse(d.sent_at) / 1000, p.index]);
        break;
      }
      case 'ping_stats': this.pair(from, d.target, d.ip_addr).final = d; break;
      case 'error': this.error(d, from); break;
      case 'gap': this.notice('gap', 'events ' + d.from + '–' + d.to + ' are no longer kept by the hub'); break;
      case 'end':
        this.source.close();
        this.setState(this.cancelled ? 'cancelled' : 'finished',
          d.sent + ' sent, ' + d.received + ' received, ' + plural(d.timeouts, 'timeout') + ', ' + plural(d.errors, 'error')
          + ' in ' + (d.duration_ms / 1000).toFixed(1) + ' s');
        refreshTasks();
        break;
    }
    this.dirty = true;
    if (ev.type === 'end') this.render(); // the chart and table are final when the state says so
  }

  error(d, from) {
    if (d.code === 'cancelled') this.cancelled = true;
    const who = [d.agent && ('agent ' + d.agent), d.target && ('target ' + d.target), d.seq !== undefined && ('seq ' + d.seq)]
      .filter(Boolean).join(', ');
    this.addNote(el('li', {class: 'error', 'data-code': d.code}, el('code', {}, d.code), (who ? who + ': ' : '') + d.message));
  }

  notice(code, message) {
    this.addNote(el('li', {class: 'notice', 'data-code': code}, el('code', {}, code), message));
  }

  addNote(li) {
    const list = $('errors');
    list.querySelector('.none')?.remove();
    list.append(li);
  }

  render() {
    if (!this.dirty) return;
    this.dirty = false;
    this.renderStats();
    this.renderChart();
  }

  renderStats() {
    const body = $('stats').tBodies[0];
    for (const p of this.pairs.values()) {
      let row = body.querySelector('tr[data-index="' + p.index + '"]');
      if (!row) {
        row = el('tr', {'data-index': String(p.index)});
        for (let i = 0; i < 15; i++) row.append(el('td'));
        body.append(row);
      }
      const f = p.final;
      const sorted = p.rtts.slice().sort((a, b) => a - b);
      const sent = f ? f.packets_sent : p.sent, recv = f ? f.packets_recv : p.recv;
      const loss = f ? f.packet_loss : (sent ? 100 * (sent - recv) / sent : 0);
      const avg = f ? f.avg_rtt : (sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : undefined);
      let jitter = f ? f.jitter : undefined;
      if (!f && p.rtts.length > 1) {
        let s = 0;
        for (let i = 1; i < p.rtts.length; i++) s += Math.abs(p.rtts[i] - p.rtts[i - 1]);
        jitter = s / (p.rtts.length - 1);
      }
      const cells = [p.from, p.target, p.ip, sent, recv, loss.toFixed(1) + ' %', p.timeouts, ms(p.last),
        ms(f ? f.min_rtt : sorted[0]), ms(avg), ms(f ? f.max_rtt : sorted[sorted.length - 1]),
        ms(f ? f.p50 : percentile(sorted, 50)), ms(f ? f.p90 : percentile(sorted, 90)), ms(f ? f.p99 : percentile(sorted, 99)), ms(jitter)];
      cells.forEach((v, i) => { row.cells[i].textContent = v; });
      row.cells[0].prepend(el('span', {class: 'swatch', style: 'background:' + p.color}));
      row.cells[5].className = loss > 0 ? 'loss-bad' : '';
      row.cells[6].className = p.timeouts > 0 ? 'timeouts-bad' : '';
    }
  }

  renderChart() {
    const pairs = [...this.pairs.values()];
    if (!pairs.length) return;
    let points = this.points;
    if (points.length > MAX_POINTS) points = this.points = points.slice(points.length - MAX_POINTS);
    const rows = points.map((p) => [p[0], p[1] + 1, p[2]]);
    for (const t of this.timeouts) rows.push([t[0], pairs.length + 1, 0]);
    rows.sort((a, b) => a[0] - b[0]);
    const columns = pairs.length + 2;
    const data = Array.from({length: columns}, () => new Array(rows.length).fill(null));
    rows.forEach((r, i) => { data[0][i] = r[0]; data[r[1]][i] = r[2]; });
    $('chart').dataset.points = String(points.length);
    $('chart').dataset.timeouts = String(this.timeouts.length);
    if (!this.plot || this.plotSeries !== pairs.length) {
      if (this.plot) this.plot.destroy();
      this.plotSeries = pairs.length;
      const series = [{}];
      for (const p of pairs) {
        series.push({label: (p.from === 'hub' ? '' : p.from + ' → ') + p.target, stroke: p.color, width: 1.5, spanGaps: true,
          value: (u, v) => v === null ? '–' : ms(v) + ' ms'});
      }
      series.push({label: 'timeout', stroke: '#d93838', fill: '#d93838', width: 0, paths: () => null,
        points: {show: true, size: 8, stroke: '#d93838', fill: '#d93838'}, value: (u, v) => v === null ? '' : 'timeout'});
      this.plot = new uPlot({
        width: Math.max(300, $('chart').clientWidth), height: 320,
        scales: {x: {time: true}, y: {range: (u, min, max) => [0, Math.max(0.05, max * 1.1)]}},
        axes: [{stroke: '#6b7685', grid: {stroke: '#eef1f6'}},
          {stroke: '#6b7685', grid: {stroke: '#eef1f6'}, label: 'RTT ms', values: (u, vals) => vals.map(ms)}],
        series, legend: {live: true},
      }, data, $('chart'));
    } else {
      this.plot.setData(data);
    }
  }
}

function watch(id) {
  if (view) view.close();
  view = new TaskView(id);
  history.replaceState(null, '', '#' + id);
}

async function startTask(event) {
  event.preventDefault();
  const split = (s) => s.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
  const body = {targets: split($('targets').value), from: split($('from').value),
    count: Number($('count').value), interval: Number($('interval').value), timeout: Number($('timeout').value)};
  const errorBox = $('form-error');
  errorBox.hidden = true;
  const res = await fetch('/tasks', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  const answer = await res.json();
  if (res.status !== 201) {
    errorBox.textContent = (answer.error.field ? answer.error.field + ': ' : '') + answer.error.message;
    errorBox.hidden = false;
    return;
  }
  watch(answer.id);
  refreshTasks();
}

function chips(prefix, value, into) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) chips(prefix ? prefix + '.' + k : k, v, into);
    return;
  }
  const text = Array.isArray(value) ? value.join(', ') : String(value);
  const cls = value === true ? 'chip yes' : value === false ? 'chip no' : 'chip';
  into.append(el('span', {class: cls, title: prefix + ': ' + text}, el('b', {}, prefix), typeof value === 'boolean' ? '' : ' ' + text));
}

async function refreshAgents() {
  try {
    const agents = await (await fetch('/conns')).json();
    const list = $('agents');
    list.replaceChildren(el('li', {}, el('span', {class: 'name'}, 'hub'), el('span', {class: 'muted'}, ' this host')));
    for (const a of agents) {
      const box = el('div', {class: 'chips'});
      for (const [k, v] of Object.entries(a)) {
        if (k === 'name' || v === null) continue;
        if (k === 'connected_since') chips('since', new Date(v).toLocaleTimeString(), box);
        else chips(k, v, box);
      }
      list.append(el('li', {'data-agent': a.name}, el('span', {class: 'name'}, a.name), box));
    }
    $('agent-count').textContent = agents.length + ' connected';
    $('hub-status').textContent = 'hub ' + location.host + ' · up';
  } catch (e) {
    $('hub-status').textContent = 'hub unreachable: ' + e.message;
  }
}

async function refreshTasks() {
  try {
    const tasks = await (await fetch('/tasks')).json();
    $('tasks').replaceChildren(...tasks.slice(0, 20).map((t) => {
      const li = el('li', {'data-task': t.id}, el('span', {class: 'badge ' + t.state}, t.state), el('code', {}, t.id),
        el('span', {class: 'muted'}, t.request.targets.slice(0, 2).join(', ') + (t.request.targets.length > 2 ? '…' : '')));
      li.onclick = () => watch(t.id);
      return li;
    }));
  } catch (e) { /* the hub status says it */ }
}

$('task-form').addEventListener('submit', startTask);
$('cancel').addEventListener('click', () => view && fetch('/tasks/' + view.id, {method: 'DELETE'}));
window.addEventListener('resize', () => { if (view && view.plot) view.plot.setSize({width: $('chart').clientWidth, height: 320}); });
refreshAgents();
refreshTasks();
setInterval(refreshAgents, 5000);
setInterval(refreshTasks, 3000);
if (location.hash.length > 1) watch(location.hash.slice(1));
