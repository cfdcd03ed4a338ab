/** `host:port`, with IPv6 hosts in brackets: what a Host header, a dial address or a listen directive wants. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
