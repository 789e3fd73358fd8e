export * from './button';
export * from './input';
export * from './label';
export * from './form-field';
export * from './card';
export * from './badge';
export * from './feedback';
