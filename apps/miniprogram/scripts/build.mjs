console.log('build placeholder until the mini-program lands')
