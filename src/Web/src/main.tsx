import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './index.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Job requests this browser used to keep (the API answers them now): removed once the page is idle, off the first load.
const idle = (globalThis.requestIdleCallback as ((cb: () => void) => number) | undefined) ?? ((cb: () => void) => setTimeout(cb, 2000));
idle(() => void import('./lib/apiCall').then((m) => m.forgetLocalJobRequests()));
