// Bundle the playground into cnndsl/serve/static/ (or the folder given):
// app.js (CodeMirror and ours, minified), app.css, index.html, and LICENSES.txt
// with the licence of every npm package the bundle holds. Deterministic: the
// same sources and package-lock.json give the same bytes.
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, "..", "cnndsl", "serve", "static");
await mkdir(out, { recursive: true });

const common = { bundle: true, minify: true, charset: "utf8", legalComments: "none",
  logLevel: "warning", absWorkingDir: here };
const js = await esbuild.build({ ...common, entryPoints: ["src/main.js"], format: "iife",
  target: ["chrome105", "firefox113", "safari16.4"], outfile: join(out, "app.js"),
  metafile: true });
await esbuild.build({ ...common, entryPoints: ["src/style.css"], outfile: join(out, "app.css") });
await copyFile(join(here, "src", "index.html"), join(out, "index.html"));

// One licence per bundled package, in name order.
const packages = new Set();
for (const input of Object.keys(js.metafile.inputs)) {
  const match = input.match(/node_modules\/((@[^/]+\/)?[^/]+)\//);
  if (match) packages.add(match[1]);
}
const notices = [];
for (const name of [...packages].sort()) {
  const root = join(here, "node_modules", name);
  const meta = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const licence = await readFile(join(root, "LICENSE"), "utf8").catch(() => `${meta.license}\n`);
  notices.push(`${name} ${meta.version} (${meta.license})\n\n${licence.trim()}\n`);
}
await writeFile(join(out, "LICENSES.txt"),
  "The playground's bundle (app.js) holds these npm packages:\n\n" +
  notices.join(`\n${"-".repeat(72)}\n\n`));
