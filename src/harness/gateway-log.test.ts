/** The gateway's log read from a command's output: bounded, and what is kept is the newest. */
import { expect, test } from 'vitest';
import { logCommand, MAX_LOG_BYTES } from './gateway-log.js';

test('a command that prints more than MAX_LOG_BYTES keeps the last of it, its newest lines', { timeout: 30_000 }, async () => {
  // History first (as kubectl logs -f prints it), then the line that matters; the command then keeps running.
  const log = await logCommand(`head -c ${MAX_LOG_BYTES + 4096} /dev/zero | tr '\\0' 'x'; echo; echo 'the run line'; exec sleep 30`);
  try {
    let text = '';
    for (let i = 0; i < 200 && !text.includes('the run line'); i++) {
      text = await log.read();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(text.endsWith('the run line\n')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(MAX_LOG_BYTES);
  } finally {
    await log.close();
  }
});
