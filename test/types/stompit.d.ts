declare module 'stompit';
