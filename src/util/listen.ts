import type { Server } from 'node:net';

/** Starts a server listening; rejects with the listen error (EADDRINUSE…) instead of emitting it. */
export function listen(server: Pick<Server, 'once' | 'off' | 'listen'>, options: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
