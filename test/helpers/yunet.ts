// YuNet for tests: fetched as setup does it (mirror PERCEPT_MODEL_MIRROR, else the pinned URL) into the
// default place; instant when already installed. Never committed.
import { fetchModel } from '../../agent/cli/models-fetch.js';

export async function yunetModelDir(): Promise<string> {
  try {
    return (await fetchModel('yunet-n')).dir;
  } catch (err) {
    throw new Error(
      `this test needs YuNet and it could not be fetched: ${(err as Error).message} ` +
        '(set PERCEPT_MODEL_MIRROR to a directory holding yunet/yunet_n_dynamic.onnx and yunet/LICENSE, or allow the download)',
      { cause: err },
    );
  }
}
