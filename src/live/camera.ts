// The watched source as the serial link's camera: LEARN-FRAME learns the next frame the live loop takes (so
// the example is what the camera saw after the controller's button press), PREDICT-FRAME predicts the newest
// decoded frame at once.
import type { Engram } from '../learner/engram.js';
import type { LinkCamera } from '../link/learner.js';
import { rawOf, type LiveLoop } from './loop.js';

export function liveCamera(engram: Engram, loop: LiveLoop): LinkCamera {
  return {
    async learnFrame(label) {
      const r = await loop.capture({ label, frames: 1 });
      return { frame: r.frames[0], label: r.label, stored: r.stored, classes: engram.stats().classes };
    },
    async predictFrame({ top }) {
      const frame = loop.source.latest;
      if (!frame) throw new Error('camera: no frame decoded yet; try again once the source delivers');
      const [p] = await engram.predict([rawOf(frame)], { top });
      return { frame: frame.index, label: p.label, score: p.score, margin: p.margin, top: p.top };
    },
  };
}
