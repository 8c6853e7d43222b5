// The window of a convolution or pooling layer sliding over its (padded) input,
// with that layer's kernel, stride, padding and dilation; the output cell it
// computes lights up beside. 3-D layers show their last two dims, 1-D ones a row.

const MAX_STEPS_PER_AXIS = 32;   // a 112x112 output shows every 4th position per axis
const COLOURS = {
  input: "#ffffff", padding: "#e4e6ea", grid: "#c8ccd2", window: "rgba(9, 105, 218, 0.18)",
  tap: "rgba(9, 105, 218, 0.75)", edge: "#0969da", done: "#b6d4f5", current: "#0969da",
  text: "#24292f",
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
    const cell = Math.min(18, 300 / this.cols.extent, (height - 40) / this.rows.extent);
    this.drawInput(ctx, 10, 24, cell, i, j);
    const left = 10 + cell * this.cols.extent + 40;
    const outCell = Math.min(18, (width - left - 10) / this.cols.out, (height - 40) / this.rows.out);
    this.drawOutput(ctx, left, 24, outCell, i, j);
    this.canvas.dataset.frame = String(this.frame);
    this.caption(i, j);
  }

  drawInput(ctx, x, y, cell, i, j) {
    const { rows, cols } = this;
    ctx.fillStyle = COLOURS.padding;
    ctx.fillRect(x, y, cols.extent * cell, rows.extent * cell);
    ctx.fillStyle = COLOURS.input;
    ctx.fillRect(x + cols.before * cell, y + rows.before * cell, cols.n * cell, rows.n * cell);
    grid(ctx, x, y, cell, rows.extent, cols.extent);
    const r0 = i * rows.s, c0 = j * cols.s;
    ctx.fillStyle = COLOURS.window;
    ctx.fillRect(x + c0 * cell, y + r0 * cell, (cols.d * (cols.k - 1) + 1) * cell,
      (rows.d * (rows.k - 1) + 1) * cell);
    ctx.fillStyle = COLOURS.tap;
    for (let a = 0; a < rows.k; a++) for (let b = 0; b < cols.k; b++) {
      ctx.fillRect(x + (c0 + b * cols.d) * cell + 1, y + (r0 + a * rows.d) * cell + 1,
        Math.max(cell - 2, 1), Math.max(cell - 2, 1));
    }
    ctx.strokeStyle = COLOURS.edge;
    ctx.lineWidth = 2;
    ctx.strokeRect(x + c0 * cell, y + r0 * cell, (cols.d * (cols.k - 1) + 1) * cell,
      (rows.d * (rows.k - 1) + 1) * cell);
    label(ctx, x, 16, `input ${this.w.input.join("x")}` + (padded(this) ? " + padding" : ""));
  }

  drawOutput(ctx, x, y, cell, i, j) {
    const { rows, cols } = this;
    ctx.fillStyle = COLOURS.input;
    ctx.fillRect(x, y, cols.out * cell, rows.out * cell);
    ctx.fillStyle = COLOURS.done;
    for (const [a, b] of this.positions.slice(0, this.frame)) {
      ctx.fillRect(x + b * cell, y + a * cell, cell, cell);
    }
    ctx.fillStyle = COLOURS.current;
    ctx.fillRect(x + j * cell, y + i * cell, Math.max(cell, 2), Math.max(cell, 2));
    grid(ctx, x, y, cell, rows.out, cols.out);
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
    box.textContent = `${where}${sampled}; negative or past-the-end indices are padding`;
  }
}

function padded(anim) {
  return anim.rows.before + anim.rows.after + anim.cols.before + anim.cols.after > 0;
}

function grid(ctx, x, y, cell, rows, cols) {
  if (cell < 5) return;   // lines closer than this would only grey the picture
  ctx.strokeStyle = COLOURS.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let r = 0; r <= rows; r++) {
    ctx.moveTo(x, y + r * cell + 0.5);
    ctx.lineTo(x + cols * cell, y + r * cell + 0.5);
  }
  for (let c = 0; c <= cols; c++) {
    ctx.moveTo(x + c * cell + 0.5, y);
    ctx.lineTo(x + c * cell + 0.5, y + rows * cell);
  }
  ctx.stroke();
}

function label(ctx, x, y, text) {
  ctx.fillStyle = COLOURS.text;
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(text, x, y);
}
