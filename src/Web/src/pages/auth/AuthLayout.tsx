import type { ReactNode } from 'react';
import { Play } from 'lucide-react';

/** The frame of the signed-out pages: brand, a card, and links under it. */
export function AuthLayout({ title, description, children, footer }: { title: string; description?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <main className="flex min-h-dvh flex-col items-center justify-center bg-gradient-to-b from-accent-50 to-neutral-50 px-4 py-10">
      <div className="mb-6 flex items-center gap-2 text-lg font-semibold tracking-tight">
        <span className="flex size-8 items-center justify-center rounded-lg bg-accent-600 text-white" aria-hidden="true">
          <Play className="size-4 fill-current" />
        </span>
        FentaWeb
      </div>
      <div className="w-full max-w-sm rounded-xl border border-neutral-200 bg-white p-6 shadow-sm">
        <h1 className="text-xl font-semibold tracking-tight">{title}</h1>
        {description && <p className="mt-1 text-sm text-neutral-500">{description}</p>}
        <div className="mt-5">{children}</div>
      </div>
      {footer && <div className="mt-4 text-sm text-neutral-600">{footer}</div>}
    </main>
  );
}
