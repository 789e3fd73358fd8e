import { KeyRound } from 'lucide-react';
import { Alert, Button } from '@/components/ui';
import { CopyButton } from '@/components/ui/copy-button';
import { Dialog, DialogClose, DialogContent } from '@/components/ui/dialog';

/** A secret the API returns once (a new API key, a webhook's signing secret): shown with a copy button, never again. */
export function SecretDialog({ title, secret, what, onClose }: { title: string; secret: string; what: string; onClose: () => void }) {
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title={title} description={`Copy ${what} now: it is shown only once.`}>
        <Alert tone="warning" className="mb-3">
          Store it somewhere safe, such as a secret manager. If you lose it, roll or rotate to get a new one.
        </Alert>
        <div className="flex flex-col gap-2 sm:flex-row sm:items-center">
          <KeyRound className="hidden size-4 shrink-0 text-neutral-500 sm:block" aria-hidden="true" />
          <input
            readOnly
            value={secret}
            aria-label={what}
            onFocus={(e) => e.currentTarget.select()}
            className="h-9 min-w-0 flex-1 rounded-md border border-neutral-300 bg-neutral-50 px-3 font-mono text-xs"
          />
          <CopyButton text={secret} label="Copy secret" />
        </div>
        <div className="mt-5 flex justify-end">
          <DialogClose asChild>
            <Button>I have stored it</Button>
          </DialogClose>
        </div>
      </DialogContent>
    </Dialog>
  );
}
