/** Whether the container runtime can run here; in CI its absence is a failure, not a skip. */
import { execFileSync } from 'node:child_process';

export function dockerImagePresent(image: string): string | undefined {
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 10_000 });
    return undefined;
  } catch {
    return `Docker engine or image ${image} unavailable (run scripts/build-gateway-image.sh nginx with dockerd running)`;
  }
}

export function containersLabelled(label: string): string[] {
  const out = execFileSync('docker', ['ps', '-a', '-q', '--filter', `label=${label}`], { encoding: 'utf8', timeout: 10_000 });
  return out.split('\n').filter(Boolean);
}
