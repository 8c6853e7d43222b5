// The spec lives in the page's address, after `#`, so a link reproduces the page:
// `#file=lenet.cnn&z=<deflate-raw, base64url>`. The part after `#` never leaves
// the browser (it is not sent to the server, nor in a Referer).

const bytesToBase64url = (bytes) => {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const base64urlToBytes = (text) => {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
};

// A spec is at most 1 MiB; a link that inflates past that is refused, not unpacked.
const MAX_BYTES = 1 << 20;

async function through(stream, bytes) {
  const reader = new Blob([bytes]).stream().pipeThrough(stream).getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new RangeError("the spec in the link is over 1 MiB");
    }
    parts.push(value);
  }
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

/** The address fragment holding `text` (and the file name it is checked under). */
export async function encode(text, file) {
  const packed = await through(new CompressionStream("deflate-raw"),
    new TextEncoder().encode(text));
  const params = new URLSearchParams();
  if (file) params.set("file", file);
  params.set("z", bytesToBase64url(packed));
  return `#${params}`;
}

/** The spec in an address fragment, or null when it holds none (or a broken one). */
export async function decode(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  if (!params.has("z")) return null;
  try {
    const bytes = await through(new DecompressionStream("deflate-raw"),
      base64urlToBytes(params.get("z")));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return { text, file: params.get("file") };
  } catch {
    return null;
  }
}
