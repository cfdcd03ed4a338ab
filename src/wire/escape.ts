/** Bytes as readable text: control bytes escaped, cut after `max` bytes. Pure. */
export function escapeBytes(bytes: Buffer, max = 60): string {
  let s = '';
  for (const b of bytes.subarray(0, max)) {
    if (b === 13) s += '\\r';
    else if (b === 10) s += '\\n';
    else if (b === 9) s += '\\t';
    else if (b === 92) s += '\\\\';
    else if (b < 32 || b >= 127) s += '\\x' + b.toString(16).padStart(2, '0');
    else s += String.fromCharCode(b);
  }
  return bytes.length > max ? `${s}… (+${bytes.length - max} bytes)` : s;
}
