// Actions that cannot be taken back ask first: a form with data-confirm is sent only when the
// person agrees to its question. Without JavaScript the form is sent as before.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
