// One place that loads the OpenCV addon: it must be told not to try to build OpenCV itself, and its
// loader prints to stdout, which must stay clean for --print-events and journald.
import type * as OpenCV from '@u4/opencv4nodejs';

export type CV = typeof OpenCV.cv;
export type Mat = OpenCV.Mat;

let loaded: CV | undefined;

/** OPENCV_LOG_LEVEL as the user set it (read at import, before loadOpenCV() sets its default). */
export const USER_OPENCV_LOG_LEVEL = process.env.OPENCV_LOG_LEVEL;

export async function loadOpenCV(): Promise<CV> {
  if (loaded) return loaded;
  process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD = '1';
  // OpenCV's own C++ warnings (backend probing) go to stderr; keep errors only unless the user says otherwise.
  process.env.OPENCV_LOG_LEVEL ??= 'ERROR';
  // opencv4nodejs's memory-tracking Mat allocator reports freed Mats to V8 from their finalisers, i.e.
  // during garbage collection, which crashes V8 ("Check failed: marking_done_") within seconds on a
  // live source, where capture reads run beside the pipeline. Its own switch turns it off at load.
  process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING = '1';
  const { Log } = await import('@u4/opencv-build');
  Log.silence = true;
  const mod = await import('@u4/opencv4nodejs');
  loaded = mod.cv as CV;
  return loaded;
}
