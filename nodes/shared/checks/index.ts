export * from './types';
export * from './technical';
export * from './similarity';
