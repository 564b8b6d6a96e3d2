// A DurableFs that records every call and can be told to refuse writes like a full disk (ENOSPC).
import { realFs, type DurableFs } from '../../agent/lib/durable.js';

export interface FaultFs extends DurableFs {
  calls: string[];
  full: boolean;
}

export function faultFs(): FaultFs {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const fs: FaultFs = {
    calls: [],
    full: false,
    openSync(p, f) {
      fs.calls.push(`open ${p} ${f}`);
      return realFs.openSync(p, f);
    },
    writeSync(fd, d) {
      fs.calls.push(`write ${fd}`);
      if (fs.full) throw enospc();
      return realFs.writeSync(fd, d);
    },
    fsyncSync(fd) {
      fs.calls.push(`fsync ${fd}`);
      realFs.fsyncSync(fd);
    },
    closeSync(fd) {
      fs.calls.push(`close ${fd}`);
      realFs.closeSync(fd);
    },
    renameSync(a, b) {
      fs.calls.push(`rename ${a} ${b}`);
      realFs.renameSync(a, b);
    },
    unlinkSync(p) {
      fs.calls.push(`unlink ${p}`);
      realFs.unlinkSync(p);
    },
    mkdirSync(p, o) {
      fs.calls.push(`mkdir ${p}`);
      return realFs.mkdirSync(p, o);
    },
  };
  return fs;
}
