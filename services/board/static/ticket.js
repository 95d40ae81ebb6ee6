// The kitchen ticket opens in its own tab (one for the whole board) and prints on a tap; Close
// goes back to the board's tab instead of opening a second live board (and a second chime).
"use strict";
document.getElementById("print").addEventListener("click", () => window.print());
document.getElementById("close").addEventListener("click", () => {
  window.close();
  // A tab the browser will not let a script close: say what to do.
  setTimeout(() => { document.getElementById("close-hint").hidden = false; }, 300);
});
