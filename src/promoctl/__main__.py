from promoctl.launch import run

run()
