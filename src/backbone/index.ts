// Public API of the backbone runtime: manifests, sessions, image-to-feature embedding, graph cutting,
// and the model catalogue.
export * from './manifest.js';
export * from './session.js';
export * from './backbone.js';
export { decodeImage, inputLabel, ImageError, type ImageInput, type RawImage, type Pixels, type DecodeTarget } from '../images/decode.js';
export {
  imageIntoTensor,
  inkIntoTensor,
  fastJpegAvailable,
  type Preprocess,
  type PreparedBy,
  type PreparedImage,
} from '../images/tensor.js';
export { planInk, type Applied, type Box, type Conventions } from '../images/conventions.js';
export * from './cut.js';
export * from './catalogue.js';
export * from './pull.js';
