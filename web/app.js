// The page that teaches the device: a live view (the device's own source through the server, or this
// browser's camera), the top answers as they change, a button per class to capture examples, forget, prune,
// the memory's figures (per class too) and the eval confusion matrix. Plain JavaScript served as is: no build step, nothing loaded from elsewhere.
const $ = (id) => document.getElementById(id);
const state = { live: false, webcam: null, busy: false, classes: [] };

// The token: from the address (#token=..., as engram serve prints it once) or typed in, kept in this browser.
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  localStorage.setItem('engram-token', fromHash);
  history.replaceState(null, '', location.pathname);
}
$('token').value = localStorage.getItem('engram-token') ?? '';
$('token').addEventListener('change', () => localStorage.setItem('engram-token', $('token').value.trim()));

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const token = $('token').value.trim();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const res = await fetch(path, { ...init, headers });
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function say(text, error = false) {
  $('message').textContent = text;
  $('message').className = error ? 'message error' : 'message';
}

function showPrediction(p) {
  const answer = $('answer');
  answer.textContent = p && p.label !== null ? p.label : 'unknown';
  answer.className = p && p.label !== null ? 'answer' : 'answer unknown';
  answer.dataset.frame = p && p.frame !== undefined ? String(p.frame) : '';
  const top = $('top');
  top.replaceChildren(
    ...(p ? p.top : []).slice(0, 3).map((t) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = t.label;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${Math.round(t.score * 100)}%`;
      bar.append(fill);
      const score = document.createElement('span');
      score.textContent = t.score.toFixed(3);
      li.append(name, bar, score);
      return li;
    }),
  );
}

function fmtBytes(n) {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

async function refreshStats() {
  const s = await api('/api/stats');
  state.classes = s.labels;
  const list = $('classlist');
  list.replaceChildren(
    ...s.labels.map((label) => {
      const tr = document.createElement('tr');
      tr.dataset.label = label;
      const name = document.createElement('td');
      name.textContent = label;
      const count = document.createElement('td');
      count.className = 'num count';
      count.textContent = String(s.examples[label]);
      const bytes = document.createElement('td');
      bytes.className = 'num bytes';
      const cost = s.perClass?.[label];
      bytes.textContent = cost ? fmtBytes(cost.compressedBytes) : '';
      if (cost) bytes.title = `${cost.connections} connections`;
      const cap = document.createElement('td');
      const capture = document.createElement('button');
      capture.type = 'button';
      capture.className = 'capture';
      capture.textContent = 'Capture';
      capture.title = `capture frames as examples of ${label}`;
      capture.addEventListener('click', () => teach(label));
      cap.append(capture);
      const fg = document.createElement('td');
      const forget = document.createElement('button');
      forget.type = 'button';
      forget.className = 'secondary forget';
      forget.textContent = 'Forget';
      forget.addEventListener('click', () => forgetClass(label));
      fg.append(forget);
      tr.append(name, count, bytes, cap, fg);
      return tr;
    }),
  );
  $('noclasses').hidden = s.labels.length > 0;
  const rows = [
    ['classes', s.classes],
    ['memory in RAM', fmtBytes(s.bytes)],
    ['knowledge (compressed)', fmtBytes(s.compressedBytes)],
    ['as saved', fmtBytes(s.serializedBytes)],
    ['connections', `${s.connections} (density ${(s.density * 100).toFixed(2)}%)`],
    ['unknown below score', s.threshold.toFixed(3)],
    ['backbone', `${s.backbone ?? 'none (feature vectors)'}${s.mirror ? ', with mirror features' : ''}`],
  ];
  if (s.live) rows.push(['camera frames', `${s.live.decoded} decoded, ${s.live.dropped} dropped (${s.live.width}x${s.live.height})`]);
  $('stats').replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = String(v);
      return [dt, dd];
    }),
  );
}

function setBusy(busy) {
  state.busy = busy;
  for (const b of document.querySelectorAll('button')) b.disabled = busy;
}

async function teach(label) {
  const frames = Number($('frames').value) || 5;
  const every = Number($('every').value) || 1;
  setBusy(true);
  say(`capturing ${frames} frames as ${label}...`);
  try {
    let r;
    if (state.webcam) {
      const form = new FormData();
      form.append('label', label);
      for (let i = 0; i < frames; i++) {
        form.append('image', await webcamFrame(), `frame-${i}.jpg`);
        await new Promise((done) => setTimeout(done, 100 * every));
      }
      r = await api('/api/learn', { method: 'POST', body: form });
    } else {
      r = await api('/api/live/learn', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ label, frames, every }),
      });
    }
    say(`learned ${r.stored} examples of ${label}`);
  } catch (err) {
    say(err.message, true);
  } finally {
    setBusy(false);
    await refreshStats().catch(() => {});
  }
}

async function forgetClass(label) {
  if (!confirm(`Forget ${label} and everything learned about it?`)) return;
  try {
    const r = await api('/api/forget', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ label }),
    });
    say(`forgot ${label} (${r.removed} connections)`);
  } catch (err) {
    say(err.message, true);
  }
  await refreshStats().catch(() => {});
}

$('addform').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const label = $('newlabel').value.trim();
  if (!label) return;
  $('newlabel').value = '';
  await teach(label);
});

$('pruneform').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const r = await api('/api/prune', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'share', share: Number($('share').value) }),
    });
    say(`pruned ${r.removed} connections; knowledge now ${fmtBytes(r.compressedBytes)}`);
  } catch (err) {
    say(err.message, true);
  }
  await refreshStats().catch(() => {});
});

function pct(r) {
  return r.rate === null ? 'n/a' : `${(r.rate * 100).toFixed(1)}% (${r.count}/${r.of})`;
}

$('evalform').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const files = [...$('evalfiles').files].filter((f) => /\.(png|jpe?g|webp)$/i.test(f.name));
  if (files.length === 0) return say('evaluate: choose a folder holding a subfolder of images per class', true);
  const form = new FormData();
  // The server takes each image's true label from its folder, as engram eval --labels-from dir.
  for (const f of files) form.append('image', f, f.webkitRelativePath || f.name);
  setBusy(true);
  say(`evaluating ${files.length} images...`);
  try {
    const r = await api('/api/eval', { method: 'POST', body: form });
    const parts = [];
    if (r.counts.known) parts.push(`top-1 ${pct(r.top1)}`);
    parts.push(`open set ${pct(r.openSet.accuracy)}`);
    if (r.counts.novel) parts.push(`novel answered unknown ${pct(r.openSet.novel.unknown)}`);
    if (r.failed.length) parts.push(`${r.failed.length} unreadable`);
    $('evalsummary').textContent = parts.join(', ');
    const img = $('confusion');
    if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(new Blob([r.svg], { type: 'image/svg+xml' }));
    img.hidden = false;
    say(`evaluated ${r.counts.evaluated} images`);
  } catch (err) {
    say(err.message, true);
  } finally {
    setBusy(false);
  }
});

// The device's own source: its current frame, fetched again as soon as the last one is shown.
function startDeviceView() {
  const img = $('live');
  img.hidden = false;
  const next = () => setTimeout(() => (img.src = `/api/live/frame.jpg?t=${Date.now()}`), 80);
  img.addEventListener('load', next);
  img.addEventListener('error', () => setTimeout(next, 500));
  next();
  const events = new EventSource('/api/live');
  events.addEventListener('prediction', (e) => {
    if (!state.webcam) showPrediction(JSON.parse(e.data));
  });
  events.addEventListener('open', () => ($('status').textContent = 'live'));
  events.addEventListener('error', () => ($('status').textContent = 'reconnecting...'));
}

// This browser's camera: frames are sent to the server for prediction, one at a time.
async function startWebcam() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    const video = $('webcam');
    video.srcObject = stream;
    video.hidden = false;
    $('live').hidden = true;
    $('nosource').hidden = true;
    await video.play();
    state.webcam = video;
    $('sourceinfo').textContent = "this browser's camera";
    $('usewebcam').hidden = true;
    predictWebcam();
  } catch (err) {
    say(`camera: ${err.message}`, true);
  }
}

async function webcamFrame() {
  const video = state.webcam;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext('2d').drawImage(video, 0, 0);
  return new Promise((done) => canvas.toBlob(done, 'image/jpeg', 0.85));
}

async function predictWebcam() {
  for (;;) {
    try {
      if (state.classes.length && !state.busy) {
        const r = await api('/api/predict', { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: await webcamFrame() });
        showPrediction(r.predictions[0]);
      }
    } catch (err) {
      say(err.message, true);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

$('usewebcam').addEventListener('click', startWebcam);

async function start() {
  try {
    const h = await api('/api/health');
    state.live = h.live;
    $('status').textContent = `engram ${h.version}`;
    if (h.live) {
      $('sourceinfo').textContent = "the device's camera";
      startDeviceView();
    } else {
      $('nosource').hidden = false;
    }
    await refreshStats();
  } catch (err) {
    $('status').textContent = 'not connected';
    say(err.message, true);
  }
}

start();
