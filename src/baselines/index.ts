// The methods a user would pick instead of engram, as small classifiers on frozen features (issue #6).
export type { Classifier } from './types.js';
export { NearestClassMean } from './ncm.js';
export { StreamingLda } from './slda.js';
export { KNearest } from './knn.js';
export { LinearSoftmax, type LinearOptions } from './linear.js';
export { RidgeHead } from './ridge.js';
