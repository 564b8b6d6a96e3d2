// One place that loads the OpenCV addon: it must be told not to try to build OpenCV itself, and its
// loader prints to stdout, which must stay clean for --print-events and journald.
import type * as OpenCV from '@u4/opencv4nodejs';

export type CV = typeof OpenCV.cv;
export type Mat = OpenCV.Mat;

let loaded: CV | undefined;

export async function loadOpenCV(): Promise<CV> {
  if (loaded) return loaded;
  process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD = '1';
  // OpenCV's own C++ warnings (backend probing) go to stderr; keep errors only unless the user says otherwise.
  process.env.OPENCV_LOG_LEVEL ??= 'ERROR';
  const { Log } = await import('@u4/opencv-build');
  Log.silence = true;
  const mod = await import('@u4/opencv4nodejs');
  loaded = mod.cv as CV;
  return loaded;
}
