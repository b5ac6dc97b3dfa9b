// Batch lists (people waiting for a room, people due for release): a header checkbox ticks or
// clears every row of its table.
document.addEventListener('DOMContentLoaded', () => {
  for (const all of document.querySelectorAll('table.batch thead input[type=checkbox]')) {
    const table = all.closest('table');
    all.addEventListener('change', () => {
      for (const c of table.querySelectorAll('tbody input[type=checkbox]')) c.checked = all.checked;
    });
  }
});

// The home list prints for the community worker's round.
document.addEventListener('DOMContentLoaded', () => {
  const print = document.getElementById('print-home');
  if (print) print.addEventListener('click', () => window.print());
});
