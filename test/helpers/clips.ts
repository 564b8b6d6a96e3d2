// Clips the tests make from real photos at run time (never committed): the demo clip's maker, shared
// with `npm run demo`, so the tests run on exactly the scene the quick start shows.
export { CLIP_IMAGES, CLIP_PEOPLE, DEMO_CLIP, makeClip, type ClipPerson, type ClipSpec } from '../../agent/capture/demo-clip.js';
