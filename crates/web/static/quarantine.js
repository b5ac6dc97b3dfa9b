// The quarantine board: the header checkbox ticks or clears every person waiting for a room.
document.addEventListener('DOMContentLoaded', () => {
  const all = document.querySelector('#waiting thead input[type=checkbox]');
  if (!all) return;
  all.addEventListener('change', () => {
    for (const c of document.querySelectorAll('#waiting tbody input[type=checkbox]')) c.checked = all.checked;
  });
});
