export * from './frame.js';
export * from './errors.js';
export * from './escape.js';
export * from './parser.js';
export * from './serializer.js';
export * from './heart-beat.js';
