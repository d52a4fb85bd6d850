var myFunction = function() {
  return 42;
};

function thisFilesNeedsToBeBigEnoughToRequireGzipping(arg) {
  doAthing();
  moreThings().then(evenMoreThings);
}
