// The window of a convolution or pooling layer sliding over its (padded) input,
// with that layer's kernel, stride, padding and dilation; the output cell it
// computes lights up beside. 3-D layers show their last two dims, 1-D ones a row.

const MAX_STEPS_PER_AXIS = 32;   // a 112x112 output shows every 4th position per axis
const WHOLE = 36;                // an input up to this many cells per axis is shown whole,
const VIEW = 24;                 // a larger one as this many cells that follow the window
const COLOURS = {
  input: "#ffffff", padding: "#e4e6ea", grid: "#c8ccd2", window: "rgba(9, 105, 218, 0.18)",
  tap: "rgba(9, 105, 218, 0.75)", edge: "#0969da", done: "#b6d4f5", current: "#0969da",
  text: "#24292f", output: "#f3f6fa", frame: "#8c959f",
};

/** One axis of the picture: sizes in cells, and the layer's numbers along it. */
function axis(w, a) {
  if (a === null) return { n: 1, k: 1, s: 1, d: 1, before: 0, after: 0, out: 1, extent: 1 };
  const k = w.kernel[a], s = w.stride[a], d = w.dilation[a];
  const before = w.padding[a], after = w.padding_after[a], out = w.output[a];
  const reach = (out - 1) * s + d * (k - 1) + 1;   // ceil mode may reach past the padding
  const extent = Math.max(before + w.input[a] + after, reach);
  return { n: w.input[a], k, s, d, before, after, out, extent };
}

/** Output indices shown along an axis: all of them, or evenly spaced ones. */
function sample(out) {
  const every = Math.ceil(out / MAX_STEPS_PER_AXIS);
  const picked = [];
  for (let i = 0; i < out; i += every) picked.push(i);
  return picked;
}

export class WindowAnimation {
  constructor(canvas, geometry) {
    this.canvas = canvas;
    this.w = geometry;
    const rank = geometry.input.length;
    this.rows = axis(geometry, rank === 1 ? null : rank - 2);
    this.cols = axis(geometry, rank - 1);
    this.positions = [];
    for (const i of sample(this.rows.out)) for (const j of sample(this.cols.out)) {
      this.positions.push([i, j]);
    }
    this.frame = 0;
    this.timer = null;
    this.interval = Math.min(500, Math.max(80, 6000 / this.positions.length));
    canvas.dataset.positions = String(this.positions.length);
    canvas.dataset.kernel = geometry.kernel.join("x");
    canvas.dataset.stride = geometry.stride.join("x");
    canvas.dataset.padding = geometry.padding.join("x");
    canvas.dataset.dilation = geometry.dilation.join("x");
  }

  start() {
    this.draw();
    const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
    if (!(still && still.matches)) this.play();
  }

  play() {
    this.stop();
    this.timer = setInterval(() => this.step(1), this.interval);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  /** Play or pause; true when playing afterwards. */
  toggle() {
    if (this.timer) this.stop();
    else this.play();
    return Boolean(this.timer);
  }

  step(n) {
    if (!this.canvas.isConnected) return this.stop();
    this.frame = (this.frame + n) % this.positions.length;
    this.draw();
  }

  draw() {
    const ctx = this.canvas.getContext("2d");
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    const [i, j] = this.positions[this.frame];
    const view = { rows: this.view(this.rows, i), cols: this.view(this.cols, j) };
    const cell = cellSize(300, height - 40, view.rows.size, view.cols.size);
    this.drawInput(ctx, 10, 24, cell, view, i, j);
    const left = 10 + cell.w * view.cols.size + 40;
    const outCell = cellSize(width - left - 10, height - 40, this.rows.out, this.cols.out);
    this.drawOutput(ctx, left, 24, outCell, i, j);
    this.canvas.dataset.frame = String(this.frame);
    this.caption(i, j);
  }

  /** The part of an axis in view: all of it, or VIEW cells that follow the window. */
  view(ax, o) {
    if (ax.extent <= WHOLE) return { from: 0, size: ax.extent };
    const start = o * ax.s, span = ax.d * (ax.k - 1) + 1;
    const from = Math.max(0, Math.min(ax.extent - VIEW, start - Math.floor((VIEW - span) / 2)));
    return { from, size: VIEW };
  }

  drawInput(ctx, x, y, cell, view, i, j) {
    const { rows, cols } = this;
    const X = (c) => x + (c - view.cols.from) * cell.w;   // cell column -> canvas x
    const Y = (r) => y + (r - view.rows.from) * cell.h;
    ctx.save();
    ctx.beginPath();
    ctx.rect(x, y, view.cols.size * cell.w, view.rows.size * cell.h);
    ctx.clip();
    ctx.fillStyle = COLOURS.padding;
    ctx.fillRect(X(0), Y(0), cols.extent * cell.w, rows.extent * cell.h);
    ctx.fillStyle = COLOURS.input;
    ctx.fillRect(X(cols.before), Y(rows.before), cols.n * cell.w, rows.n * cell.h);
    grid(ctx, x, y, cell, view.rows.size, view.cols.size);
    const r0 = i * rows.s, c0 = j * cols.s;
    const w = (cols.d * (cols.k - 1) + 1) * cell.w, h = (rows.d * (rows.k - 1) + 1) * cell.h;
    ctx.fillStyle = COLOURS.window;
    ctx.fillRect(X(c0), Y(r0), w, h);
    ctx.fillStyle = COLOURS.tap;
    const [a0, a1] = tapsInView(r0, rows, view.rows), [b0, b1] = tapsInView(c0, cols, view.cols);
    for (let a = a0; a < a1; a++) for (let b = b0; b < b1; b++) {
      ctx.fillRect(X(c0 + b * cols.d) + 1, Y(r0 + a * rows.d) + 1, Math.max(cell.w - 2, 1),
        Math.max(cell.h - 2, 1));
    }
    ctx.strokeStyle = COLOURS.edge;
    ctx.lineWidth = 2;
    ctx.strokeRect(X(c0), Y(r0), w, h);
    ctx.restore();
    frame(ctx, x, y, view.cols.size * cell.w, view.rows.size * cell.h);
    const part = view.rows.size < rows.extent || view.cols.size < cols.extent ? " (a part)" : "";
    label(ctx, x, 16, `input ${this.w.input.join("x")}` + (padded(this) ? " + padding" : "") + part);
  }

  drawOutput(ctx, x, y, cell, i, j) {
    const { rows, cols } = this;
    ctx.fillStyle = COLOURS.output;
    ctx.fillRect(x, y, cols.out * cell.w, rows.out * cell.h);
    ctx.fillStyle = COLOURS.done;
    for (const [a, b] of this.positions.slice(0, this.frame)) {
      ctx.fillRect(x + b * cell.w, y + a * cell.h, cell.w, cell.h);
    }
    ctx.fillStyle = COLOURS.current;
    ctx.fillRect(x + j * cell.w, y + i * cell.h, Math.max(cell.w, 3), Math.max(cell.h, 3));
    grid(ctx, x, y, cell, rows.out, cols.out);
    frame(ctx, x, y, cols.out * cell.w, rows.out * cell.h);
    label(ctx, x, 16, `output ${this.w.output.join("x")}`);
  }

  caption(i, j) {
    const box = this.canvas.parentElement?.querySelector(".caption");
    if (!box) return;
    const { rows, cols } = this;
    const span = (o, ax) => {
      const first = o * ax.s - ax.before;
      return `${first}…${first + ax.d * (ax.k - 1)}`;
    };
    const where = this.w.input.length === 1
      ? `output ${j} reads input ${span(j, cols)}`
      : `output (${i}, ${j}) reads input rows ${span(i, rows)}, columns ${span(j, cols)}`;
    const sampled = this.positions.length < rows.out * cols.out ? " (some positions skipped)" : "";
    const pad = padded(this) ? "; indices below 0 or past the end are padding" : "";
    box.textContent = `${where}${sampled}${pad}`;
  }
}

function padded(anim) {
  return anim.rows.before + anim.rows.after + anim.cols.before + anim.cols.after > 0;
}

/** Cell width and height: square, fitting `width` x `height`; a 1-D row stays tall. */
function cellSize(width, height, rows, cols) {
  const side = Math.min(18, width / cols, height / rows);
  return { w: side, h: rows === 1 ? Math.max(side, 18) : side };
}

function grid(ctx, x, y, cell, rows, cols) {
  if (Math.min(cell.w, cell.h) < 5) return;   // lines closer than this would only grey it
  ctx.strokeStyle = COLOURS.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let r = 0; r <= rows; r++) {
    ctx.moveTo(x, y + r * cell.h + 0.5);
    ctx.lineTo(x + cols * cell.w, y + r * cell.h + 0.5);
  }
  for (let c = 0; c <= cols; c++) {
    ctx.moveTo(x + c * cell.w + 0.5, y);
    ctx.lineTo(x + c * cell.w + 0.5, y + rows * cell.h);
  }
  ctx.stroke();
}

function frame(ctx, x, y, w, h) {
  ctx.strokeStyle = COLOURS.frame;
  ctx.lineWidth = 1;
  ctx.strokeRect(x - 0.5, y - 0.5, w + 1, h + 1);
}

function label(ctx, x, y, text) {
  ctx.fillStyle = COLOURS.text;
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(text, x, y);
}

/** The taps `[first, last)` of a window starting at cell `start` that fall in the
 * view (the rest are clipped away): a 20000x20000 kernel draws 24x24 taps, not 4e8. */
function tapsInView(start, ax, view) {
  const first = Math.max(0, Math.ceil((view.from - start) / ax.d));
  const last = Math.min(ax.k, Math.floor((view.from + view.size - 1 - start) / ax.d) + 1);
  return [first, Math.max(first, last)];
}
