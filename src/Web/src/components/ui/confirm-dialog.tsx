import type { ReactNode } from 'react';
import { errorMessage } from '@/api/problem';
import { Button } from './button';
import { Dialog, DialogClose, DialogContent } from './dialog';
import { Alert } from './feedback';

/**
 * "Are you sure?" for a destructive action. Render it while something is pending confirmation; `error` (a failed
 * mutation) shows its problem detail inside the dialog.
 */
export function ConfirmDialog({
  title,
  description,
  confirmLabel,
  cancelLabel = 'Cancel',
  tone = 'destructive',
  pending,
  error,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  description?: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  tone?: 'destructive' | 'default';
  pending?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onClose: () => void;
  children?: ReactNode;
}) {
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title={title} description={description}>
        {children}
        {error != null && <Alert className="mb-3">{errorMessage(error)}</Alert>}
        <div className="flex flex-wrap justify-end gap-2">
          <DialogClose asChild>
            <Button variant="secondary">{cancelLabel}</Button>
          </DialogClose>
          <Button variant={tone} loading={pending} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </div>
      </DialogContent>
    </Dialog>
  );
}
