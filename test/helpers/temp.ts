// The one way a test makes a temporary directory: removed when the test file's process ends (each file
// runs in a process of its own), whether its tests passed, failed or threw, so nothing is left in /tmp.
// Removal at exit rather than in each test's after(): an agent child a test started may still be writing
// into the directory until the test's own after() has stopped it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a tmpfs a test mounted there and did not unmount: the mount point stays, nothing else can be done
    }
  }
});

/** A fresh directory under the system temp dir, named `prefix` plus six random characters. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
